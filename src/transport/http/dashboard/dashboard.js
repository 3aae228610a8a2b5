// The live dashboard: one owner's wallets and transactions as they happen, over a plain
// EventSource (so Last-Event-ID resume comes from the browser itself). No build step.

const SUBSCRIPTION = `subscription ($after: String) {
  walletEvents(after: $after) {
    __typename eventId sequence cursor occurredAt walletId type
    ... on TransactionEvent { previousStatus transaction { id type direction amount currency status description } }
    ... on BalanceEvent { balance { available ledger pending currency } }
    ... on WalletStatusEvent { change status reason }
    ... on NotificationEvent { notificationChange unreadCount readIds readAt notification { ...Note } }
  }
}
fragment Note on Notification { id kind title body createdAt readAt }`;
const WALLETS = '{ me { id wallets { id currency status balance { available ledger pending } } } }';
const FEED_ROWS = 200;
// The owner's recent history, shown on opening; the stream then starts after its last
// cursor, so nothing between the two is missed or shown twice.
const HISTORY = `query ($last: Int) {
  events(last: $last) {
    edges { cursor node {
      __typename eventId sequence cursor occurredAt walletId type
      ... on TransactionEvent { previousStatus transaction { id type direction amount currency status description } }
      ... on BalanceEvent { balance { available ledger pending currency } }
      ... on WalletStatusEvent { change status reason }
      ... on NotificationEvent { notificationChange unreadCount readIds readAt notification { ...Note } }
    } }
    pageInfo { endCursor }
  }
  notifications(first: 50) { edges { node { ...Note } } }
  unreadNotificationCount
}
fragment Note on Notification { id kind title body createdAt readAt }`;
const $ = (id) => document.getElementById(id);
const NOTES_SHOWN = 50;

const state = {
  token: null,
  lastCursor: null,
  seen: new Set(),
  wallets: new Map(),
  arrivals: [],
  paused: false,
  source: null,
  dropped: false,
  retryMs: 1000,
  /** Notifications shown, by id, and the owner's unread count as the last event said it. */
  notes: new Map(),
  unread: 0,
};

/** Minor units (a decimal string) as a 2-decimal amount, exactly (BigInt, never float). */
function money(minor, currency) {
  const value = BigInt(minor);
  const sign = value < 0n ? '−' : '';
  const abs = value < 0n ? -value : value;
  const units = (abs / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${units}.${(abs % 100n).toString().padStart(2, '0')}${currency ? ` ${currency}` : ''}`;
}

function setState(name, label) {
  const el = $('state');
  el.dataset.state = name;
  el.textContent = label ?? name;
}

async function graphql(query, variables = {}) {
  const res = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${state.token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors?.length) throw Object.assign(new Error(body.errors[0].message), { code: body.errors[0].extensions?.code });
  return body.data;
}

function walletCard(wallet) {
  let li = document.querySelector(`[data-wallet="${wallet.id}"]`);
  if (!li) {
    li = document.createElement('li');
    li.className = 'wallet';
    li.dataset.wallet = wallet.id;
    li.innerHTML = `<header><span class="wid"></span><span class="badge"></span></header>
      <div class="available" aria-label="available balance"></div>
      <dl><dt>ledger</dt><dd class="ledger"></dd><dt>pending</dt><dd class="pending"></dd></dl>`;
    li.querySelector('.wid').textContent = `${wallet.currency ?? ''} · ${wallet.id.slice(0, 8)}`;
    $('wallets').append(li);
  }
  return li;
}

function renderWallet(wallet, flash = false) {
  const li = walletCard(wallet);
  const badge = li.querySelector('.badge');
  badge.textContent = wallet.status;
  badge.className = `badge ${wallet.status}`;
  if (wallet.balance) {
    li.querySelector('.available').textContent = money(wallet.balance.available, wallet.currency);
    li.querySelector('.ledger').textContent = money(wallet.balance.ledger);
    li.querySelector('.pending').textContent = money(wallet.balance.pending);
  }
  if (flash) {
    li.classList.add('flash');
    setTimeout(() => li.classList.remove('flash'), 600);
  }
}

function addRow(event) {
  const feed = $('feed');
  feed.querySelector('tr.empty')?.remove();
  const t = event.transaction;
  const tr = document.createElement('tr');
  tr.className = 'new';
  tr.dataset.sequence = event.sequence;
  tr.dataset.eventId = event.eventId;
  tr.dataset.transaction = t.id;
  const cells = [
    event.sequence,
    new Date(event.occurredAt).toLocaleTimeString(),
    `${t.currency} · ${event.walletId.slice(0, 8)}`,
    `${t.type} ${t.direction === 'CREDIT' ? '↓' : '↑'}`,
    `${t.direction === 'DEBIT' ? '−' : '+'}${money(t.amount, t.currency)}`,
    event.previousStatus ? `${event.previousStatus} → ${t.status}` : t.status,
    t.description ?? '',
  ];
  for (const [i, text] of cells.entries()) {
    const td = document.createElement('td');
    if (i === 5) {
      const badge = document.createElement('span');
      badge.className = `badge ${t.status}`;
      badge.textContent = text;
      td.append(badge);
    } else {
      td.textContent = text;
    }
    if (i === 4) td.className = `num ${t.direction}`;
    tr.append(td);
  }
  feed.prepend(tr);
  while (feed.rows.length > FEED_ROWS) feed.lastElementChild.remove();
}

function setUnread(count) {
  state.unread = count;
  const badge = $('unread');
  badge.textContent = String(count);
  badge.toggleAttribute('data-zero', count === 0);
  document.title = count ? `(${count}) wallet-events · live dashboard` : 'wallet-events · live dashboard';
}

/** Shows a notification (newest on top), or updates the one shown. */
function renderNote(note) {
  const list = $('notifications');
  list.querySelector('li.empty')?.remove();
  let li = list.querySelector(`[data-note="${note.id}"]`);
  if (!li) {
    li = document.createElement('li');
    li.dataset.note = note.id;
    li.innerHTML = '<button type="button" class="note"><div class="title"></div><div class="body"></div><time></time></button>';
    li.querySelector('.title').textContent = note.title;
    li.querySelector('.body').textContent = note.body;
    li.querySelector('time').textContent = new Date(note.createdAt).toLocaleString();
    li.querySelector('button').addEventListener('click', () => markRead([note.id]));
    const newer = [...list.children].find((other) => state.notes.get(other.dataset.note)?.createdAt < note.createdAt);
    list.insertBefore(li, newer ?? null);
    while (list.children.length > NOTES_SHOWN) list.lastElementChild.remove();
  }
  state.notes.set(note.id, note);
  li.className = `${note.kind}${note.readAt ? '' : ' unread'}`;
  li.querySelector('button').setAttribute('aria-label', `${note.readAt ? '' : 'Unread: '}${note.title}. ${note.body}`);
}

/** Marks notifications read; the change comes back as an event, on this page as on every other device. */
async function markRead(ids) {
  try {
    const { markNotificationsRead } = await graphql('mutation ($ids: [ID!]!) { markNotificationsRead(ids: $ids) { unreadCount } }', { ids });
    setUnread(markNotificationsRead.unreadCount);
  } catch (error) {
    $('notify-hint').textContent = `Could not mark read: ${error.message}`;
  }
}

function onNotificationEvent(event) {
  if (event.notificationChange === 'CREATED' && event.notification) renderNote(event.notification);
  for (const id of event.readIds) {
    const note = state.notes.get(id);
    if (note && !note.readAt) renderNote({ ...note, readAt: event.readAt });
  }
  setUnread(event.unreadCount);
}

function onEvent(event, { history = false } = {}) {
  // The server never sends a duplicate; this guards a reconnect race all the same.
  if (state.seen.has(event.eventId)) return;
  state.seen.add(event.eventId);
  // History is not traffic: only live events count towards events per second.
  if (!history) state.arrivals.push(performance.now());
  const wallet = state.wallets.get(event.walletId) ?? { id: event.walletId, status: 'ACTIVE' };
  state.wallets.set(event.walletId, wallet);
  if (event.__typename === 'TransactionEvent') {
    wallet.currency ??= event.transaction.currency;
    if (!state.paused) addRow(event);
  } else if (event.__typename === 'BalanceEvent') {
    wallet.currency ??= event.balance.currency;
    wallet.balance = event.balance;
    renderWallet(wallet, !history);
  } else if (event.__typename === 'WalletStatusEvent') {
    wallet.status = event.status;
    renderWallet(wallet, !history);
  } else if (event.__typename === 'NotificationEvent') {
    onNotificationEvent(event);
  }
}

function subscribe() {
  const params = new URLSearchParams({ query: SUBSCRIPTION, token: state.token });
  if (state.lastCursor) params.set('variables', JSON.stringify({ after: state.lastCursor }));
  const source = new EventSource(`/graphql?${params}`);
  state.source = source;
  setState(state.dropped ? 'reconnecting' : 'connecting');
  source.addEventListener('open', () => {
    state.retryMs = 1000;
    setState(state.dropped ? 'resumed' : 'connected');
  });
  source.addEventListener('next', (message) => {
    const result = JSON.parse(message.data);
    if (result.errors?.length) {
      setState('failed', `stream ended: ${result.errors[0].extensions?.code ?? result.errors[0].message}`);
      return;
    }
    state.lastCursor = result.extensions?.cursor ?? state.lastCursor;
    onEvent(result.data.walletEvents);
  });
  // The server ended the stream (a deploy, an expired token): resume from our cursor.
  source.addEventListener('complete', () => reconnectLater(source));
  source.addEventListener('error', () => {
    state.dropped = true;
    setState('reconnecting');
    // CONNECTING: the browser retries by itself with Last-Event-ID. CLOSED: it gave up; we retry.
    if (source.readyState === EventSource.CLOSED) reconnectLater(source);
  });
}

function reconnectLater(source) {
  source.close();
  if (state.source !== source) return;
  state.dropped = true;
  setState('reconnecting');
  setTimeout(subscribe, state.retryMs);
  state.retryMs = Math.min(state.retryMs * 2, 15_000);
}

function showTokenForm(message) {
  $('token-form').hidden = false;
  $('token-error').textContent = message ?? '';
  $('token-input').focus();
}

async function start(token) {
  state.token = token;
  try {
    const { me } = await graphql(WALLETS);
    $('owner').textContent = me.id;
    $('token-form').hidden = true;
    sessionStorage.setItem('wallet-events-token', token);
    for (const wallet of me.wallets) {
      state.wallets.set(wallet.id, wallet);
      renderWallet(wallet);
    }
    const { events, notifications, unreadNotificationCount } = await graphql(HISTORY, { last: FEED_ROWS });
    // The list and the count were read with the history: events after it move them on.
    for (const edge of [...notifications.edges].reverse()) renderNote(edge.node);
    for (const edge of events.edges) if (edge.node.__typename !== 'NotificationEvent') onEvent(edge.node, { history: true });
    setUnread(unreadNotificationCount);
    state.lastCursor = events.pageInfo.endCursor;
    subscribe();
    void setUpPush();
  } catch (error) {
    setState('failed', 'not signed in');
    showTokenForm(`${error.code ?? 'ERROR'}: ${error.message}`);
  }
}

$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  start($('token-input').value.trim());
});
$('mark-all').addEventListener('click', async () => {
  try {
    const { markAllNotificationsRead } = await graphql('mutation { markAllNotificationsRead { unreadCount } }');
    setUnread(markAllNotificationsRead.unreadCount);
  } catch (error) {
    $('notify-hint').textContent = `Could not mark read: ${error.message}`;
  }
});

// "Notify me": Web Push through this browser's own push service. The service worker
// (/sw.js) shows what arrives while no page is open.
const PUSH_DEVICE = 'wallet-events-push-device';

async function setUpPush() {
  const button = $('notify');
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) {
    $('notify-hint').textContent = 'This browser cannot receive push notifications.';
    return;
  }
  const { webPushPublicKey } = await graphql('{ webPushPublicKey }');
  if (!webPushPublicKey) {
    $('notify-hint').textContent = 'Push notifications are off on this server (no VAPID keys).';
    return;
  }
  state.vapidKey = webPushPublicKey;
  const registration = await navigator.serviceWorker.register('/sw.js');
  const current = await registration.pushManager.getSubscription();
  const on = Boolean(current && localStorage.getItem(PUSH_DEVICE));
  button.setAttribute('aria-pressed', String(on));
  button.textContent = on ? 'Notifications on' : 'Notify me';
  button.disabled = false;
}

async function togglePush() {
  const button = $('notify');
  button.disabled = true;
  try {
    const registration = await navigator.serviceWorker.ready;
    if (button.getAttribute('aria-pressed') === 'true') {
      const device = localStorage.getItem(PUSH_DEVICE);
      if (device) await graphql('mutation ($id: ID!) { unregisterPushDevice(id: $id) { id } }', { id: device }).catch(() => {});
      await (await registration.pushManager.getSubscription())?.unsubscribe();
      localStorage.removeItem(PUSH_DEVICE);
      button.setAttribute('aria-pressed', 'false');
      button.textContent = 'Notify me';
      $('notify-hint').textContent = 'Push notifications are off for this browser.';
      return;
    }
    if ((await Notification.requestPermission()) !== 'granted') {
      $('notify-hint').textContent = 'Notifications are blocked for this site; allow them in the browser to turn push on.';
      return;
    }
    const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: state.vapidKey });
    const { endpoint, keys } = subscription.toJSON();
    const { registerPushDevice } = await graphql('mutation ($input: RegisterPushDeviceInput!) { registerPushDevice(input: $input) { id } }', {
      input: { platform: 'WEB_PUSH', webPush: { endpoint, p256dh: keys.p256dh, auth: keys.auth }, label: navigator.userAgent.slice(0, 120) },
    });
    localStorage.setItem(PUSH_DEVICE, registerPushDevice.id);
    button.setAttribute('aria-pressed', 'true');
    button.textContent = 'Notifications on';
    $('notify-hint').textContent = 'This browser will be notified, even with the page closed.';
  } catch (error) {
    $('notify-hint').textContent = `Push could not be turned on: ${error.message}`;
  } finally {
    button.disabled = false;
  }
}
$('notify').addEventListener('click', () => void togglePush());

$('pause').addEventListener('click', () => {
  state.paused = !state.paused;
  $('pause').setAttribute('aria-pressed', String(state.paused));
  $('pause').textContent = state.paused ? 'Resume feed' : 'Pause feed';
});
setInterval(() => {
  const since = performance.now() - 5000;
  state.arrivals = state.arrivals.filter((t) => t >= since);
  $('rate').textContent = (state.arrivals.length / 5).toFixed(1);
}, 1000);

// The token comes in the URL's fragment (never sent to a server or written to its logs).
const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
if (fromHash) history.replaceState(null, '', location.pathname);
const token = fromHash ?? sessionStorage.getItem('wallet-events-token');
if (token) start(token);
else showTokenForm();
