/** How one push ended, as every platform's sender reports it. */
import type { PushMessage } from '../domain/push.ts';

export interface PushOutcome {
  /**
   * `delivered`: the push service took it. `gone`: the service says the device no longer
   * exists (Web Push 404/410, APNs `Unregistered` or `BadDeviceToken`, FCM `UNREGISTERED`):
   * the device is removed. `failed`: anything else; tried again on the retry schedule.
   */
  result: 'delivered' | 'gone' | 'failed';
  status: number | null;
  error: string | null;
}

/** A device as a sender needs it. */
export interface PushTarget {
  id: string;
  address: string;
  p256dh: string | null;
  auth: string | null;
}

/** One platform's way to a device; never throws. */
export interface PushSender {
  send(target: PushTarget, message: PushMessage): Promise<PushOutcome>;
  close(): void;
}
