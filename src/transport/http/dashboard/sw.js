// The dashboard's service worker: shows a push that arrives while no page is open, and
// brings the dashboard forward when it is clicked. The push service hands it the payload
// already decrypted: { title, body, badge, urgent, data }.

self.addEventListener('push', (event) => {
  let message;
  try {
    message = event.data ? event.data.json() : null;
  } catch {
    message = null;
  }
  const title = message?.title ?? 'wallet-events';
  event.waitUntil(
    self.registration.showNotification(title, {
      body: message?.body ?? '',
      tag: message?.data?.notificationId ?? message?.data?.eventId,
      data: message?.data ?? {},
      requireInteraction: Boolean(message?.urgent),
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((pages) => {
      const open = pages.find((page) => new URL(page.url).pathname === '/');
      return open ? open.focus() : self.clients.openWindow('/');
    }),
  );
});
