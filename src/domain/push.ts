/** Push to devices: the platforms, and what one push says. */

export type PushPlatform = 'WEB_PUSH' | 'FCM' | 'APNS';
export const PUSH_PLATFORMS: readonly PushPlatform[] = ['WEB_PUSH', 'FCM', 'APNS'];

/** What a device is told of one event: the same on every platform, each sender shapes it. */
export interface PushMessage {
  title: string;
  body: string;
  /** High for fraud, so a phone in power saving still wakes for it. */
  urgent: boolean;
  /** The owner's unread notifications, when the event carries it: the app's badge. */
  badge: number | null;
  /** Shown to the app alongside (string values, as FCM's `data` requires). */
  data: Record<string, string>;
}
