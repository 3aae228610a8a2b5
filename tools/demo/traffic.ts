/**
 * Realistic demo traffic over the public API: deposits, payments, transfers, withdrawals,
 * fees and refunds of varied sizes; most post PENDING and settle a moment later (some
 * fail), a few settled ones are reversed (chargebacks), and now and then a wallet is
 * frozen for a few seconds. The rate comes in bursts. Refusals the rules call for
 * (INSUFFICIENT_FUNDS, WALLET_FROZEN) are part of the show and counted, not errors.
 */
import { randomUUID } from 'node:crypto';
import { graphql } from '../load/api.ts';

export interface DemoWallet {
  id: string;
  ownerId: string;
  currency: string;
}

export interface TrafficTally {
  posted: number;
  settled: number;
  failed: number;
  reversed: number;
  frozen: number;
  /** Refusals by code: the ledger's rules at work. */
  refused: Record<string, number>;
  /** Anything else (network, server errors). */
  errors: number;
  lastError: string | null;
}

const CURRENCIES = ['NGN', 'USD', 'KES'];
const MAX_IN_FLIGHT = 8;

/** Each owner's wallets, creating one to three (and a first deposit each) where there are none. */
export async function ensureWallets(url: string, serviceToken: string, owners: readonly string[]): Promise<DemoWallet[]> {
  const all: DemoWallet[] = [];
  for (const ownerId of owners) {
    const wallets = await existingWallets(url, serviceToken, ownerId);
    if (wallets.length > 0) {
      all.push(...wallets);
      continue;
    }
    // The first owner (the one the demo links to) gets the most wallets, so the most traffic.
    const count = 3 - (owners.indexOf(ownerId) % 3);
    for (const currency of CURRENCIES.slice(0, count)) {
      const { createWallet } = await graphql<{ createWallet: DemoWallet }>(url, serviceToken, 'mutation($i: CreateWalletInput!) { createWallet(input: $i) { id ownerId currency } }', {
        i: { ownerId, currency },
      });
      all.push(createWallet);
      await post(url, serviceToken, { walletId: createWallet.id, direction: 'CREDIT', type: 'DEPOSIT', amount: String(5_000_000 + Math.floor(Math.random() * 20_000_000)), status: 'SUCCESS', description: 'opening deposit' });
    }
  }
  return all;
}

/** The owner's wallets; none for an owner that has none yet (it is in no tenant, so the read is refused). */
async function existingWallets(url: string, serviceToken: string, ownerId: string): Promise<DemoWallet[]> {
  try {
    return (await graphql<{ wallets: DemoWallet[] }>(url, serviceToken, 'query($o: ID) { wallets(ownerId: $o) { id ownerId currency } }', { o: ownerId })).wallets;
  } catch (error) {
    if ((error as Error).message.startsWith('FORBIDDEN')) return [];
    throw error;
  }
}

function post(url: string, token: string, input: Record<string, unknown>) {
  return graphql<{ postTransaction: { transaction: { id: string; status: string } } }>(
    url,
    token,
    'mutation($i: PostTransactionInput!) { postTransaction(input: $i) { transaction { id status } } }',
    { i: { idempotencyKey: randomUUID(), ...input } },
  );
}

/** A log-normal-ish amount in minor units: mostly small, sometimes large. */
function amount(scale: number): string {
  const factor = Math.exp(Math.random() * 4 - 1); // ~0.37 … 20
  return String(Math.max(100, Math.round(scale * factor)));
}

const KINDS = [
  { type: 'PAYMENT', direction: 'DEBIT', scale: 250_000, weight: 30, text: ['Grocer', 'Fuel station', 'Pharmacy', 'Coffee bar', 'Electricity'] },
  { type: 'DEPOSIT', direction: 'CREDIT', scale: 1_500_000, weight: 15, text: ['Salary', 'Card top-up', 'Bank transfer'] },
  { type: 'TRANSFER', direction: 'DEBIT', scale: 500_000, weight: 15, text: ['To a friend', 'Rent share', 'School fees'] },
  { type: 'TRANSFER', direction: 'CREDIT', scale: 400_000, weight: 12, text: ['From a friend', 'Refund from flatmate'] },
  { type: 'WITHDRAWAL', direction: 'DEBIT', scale: 800_000, weight: 10, text: ['ATM', 'Agent cash-out'] },
  { type: 'FEE', direction: 'DEBIT', scale: 5_000, weight: 10, text: ['Monthly fee', 'Transfer fee'] },
  { type: 'REFUND', direction: 'CREDIT', scale: 150_000, weight: 8, text: ['Merchant refund'] },
] as const;
const TOTAL_WEIGHT = KINDS.reduce((sum, kind) => sum + kind.weight, 0);

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

/** Runs traffic at about `rate` postings per second (in bursts) until stopped. */
export class TrafficSimulator {
  readonly tally: TrafficTally = { posted: 0, settled: 0, failed: 0, reversed: 0, frozen: 0, refused: {}, errors: 0, lastError: null };
  private readonly pending: string[] = [];
  private readonly succeeded: string[] = [];
  private readonly frozen = new Set<string>();
  private inFlight = 0;
  private timer: NodeJS.Timeout | null = null;
  private credit = 0;

  constructor(
    private readonly url: string,
    private readonly serviceToken: string,
    private readonly wallets: readonly DemoWallet[],
    private readonly rate: number,
  ) {}

  start(): void {
    const started = Date.now();
    this.timer = setInterval(() => {
      // A burst of three times the rate for 2 s in every 10, quieter in between.
      const second = Math.floor((Date.now() - started) / 1000) % 10;
      this.credit += (this.rate * (second < 2 ? 3 : 0.5)) / 10;
      while (this.credit >= 1 && this.inFlight < MAX_IN_FLIGHT) {
        this.credit -= 1;
        void this.step();
      }
      this.credit = Math.min(this.credit, this.rate);
    }, 100);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async step(): Promise<void> {
    this.inFlight++;
    try {
      const roll = Math.random();
      if (roll < 0.28 && this.pending.length > 0) await this.settle();
      else if (roll < 0.31 && this.succeeded.length > 0) await this.reverse();
      else if (roll < 0.315) await this.freezeOne();
      else await this.postOne();
    } catch (error) {
      const message = (error as Error).message;
      const code = /^([A-Z_]+):/.exec(message)?.[1];
      if (code && code !== 'INTERNAL_SERVER_ERROR' && code !== 'ERROR') this.tally.refused[code] = (this.tally.refused[code] ?? 0) + 1;
      else {
        this.tally.errors++;
        this.tally.lastError = message;
      }
    } finally {
      this.inFlight--;
    }
  }

  private async postOne(): Promise<void> {
    let roll = Math.random() * TOTAL_WEIGHT;
    const kind = KINDS.find((k) => (roll -= k.weight) < 0) ?? KINDS[0];
    // Mostly leave frozen wallets alone; the odd attempt shows WALLET_FROZEN.
    let wallet = pick(this.wallets);
    if (this.frozen.has(wallet.id) && Math.random() < 0.8) wallet = pick(this.wallets);
    const status = Math.random() < 0.6 ? 'PENDING' : 'SUCCESS';
    const { postTransaction } = await post(this.url, this.serviceToken, {
      walletId: wallet.id,
      direction: kind.direction,
      type: kind.type,
      amount: amount(kind.scale),
      status,
      description: pick(kind.text),
      counterparty: kind.direction === 'CREDIT' ? 'Acme Payroll' : pick(['Shoprite', 'TotalEnergies', 'MedPlus', 'Java House', 'IKEDC']),
    });
    this.tally.posted++;
    (status === 'PENDING' ? this.pending : this.succeeded).push(postTransaction.transaction.id);
  }

  private async settle(): Promise<void> {
    const id = this.pending.splice(Math.floor(Math.random() * this.pending.length), 1)[0]!;
    const outcome = Math.random() < 0.85 ? 'SUCCESS' : 'FAILED';
    await graphql(this.url, this.serviceToken, 'mutation($id: ID!, $s: SettlementStatus!) { settleTransaction(id: $id, status: $s) { id } }', { id, s: outcome });
    if (outcome === 'SUCCESS') {
      this.tally.settled++;
      this.succeeded.push(id);
    } else this.tally.failed++;
    if (this.succeeded.length > 500) this.succeeded.splice(0, 250);
  }

  private async reverse(): Promise<void> {
    const id = this.succeeded.splice(Math.floor(Math.random() * this.succeeded.length), 1)[0]!;
    await graphql(this.url, this.serviceToken, 'mutation($id: ID!) { reverseTransaction(id: $id, reason: "chargeback") { id } }', { id });
    this.tally.reversed++;
  }

  private async freezeOne(): Promise<void> {
    const wallet = pick(this.wallets);
    if (this.frozen.has(wallet.id)) return;
    this.frozen.add(wallet.id);
    await graphql(this.url, this.serviceToken, 'mutation($id: ID!) { freezeWallet(id: $id, reason: "fraud review") { id } }', { id: wallet.id });
    this.tally.frozen++;
    setTimeout(() => {
      graphql(this.url, this.serviceToken, 'mutation($id: ID!) { unfreezeWallet(id: $id) { id } }', { id: wallet.id })
        .catch(() => {})
        .finally(() => this.frozen.delete(wallet.id));
    }, 5_000 + Math.random() * 5_000);
  }
}

/** One status line: what the simulator did and, when the server tells, its live figures. */
export async function statusLine(url: string, adminToken: string, tally: TrafficTally): Promise<string> {
  const stats = await graphql<{ serverStats: { eventsInPerSecond: number; connections: { transport: string; count: number }[] } }>(
    url,
    adminToken,
    '{ serverStats { eventsInPerSecond connections { transport count } } }',
  ).catch(() => null);
  const refused = Object.entries(tally.refused)
    .map(([code, count]) => `${code} ${count}`)
    .join(', ');
  const server = stats
    ? `events/s ${stats.serverStats.eventsInPerSecond.toFixed(1)}, connections ${stats.serverStats.connections.map((c) => `${c.transport} ${c.count}`).join(' ') || '0'}`
    : 'server figures unavailable';
  return `${server} | posted ${tally.posted}, settled ${tally.settled}, failed ${tally.failed}, reversed ${tally.reversed}, frozen ${tally.frozen}${refused ? ` | refused: ${refused}` : ''}${tally.errors ? ` | errors ${tally.errors}: ${tally.lastError}` : ''}`;
}
