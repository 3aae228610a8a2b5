// The live dashboard: one owner's wallets and transactions as they happen, over a plain
// EventSource (so Last-Event-ID resume comes from the browser itself). No build step.

const SUBSCRIPTION = `subscription ($after: String) {
  walletEvents(after: $after) {
    __typename eventId sequence cursor occurredAt walletId type
    ... on TransactionEvent { previousStatus transaction { id type direction amount currency status description } }
    ... on BalanceEvent { balance { available ledger pending currency } }
    ... on WalletStatusEvent { change status reason }
  }
}`;
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
    } }
    pageInfo { endCursor }
  }
}`;
const $ = (id) => document.getElementById(id);

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
    const { events } = await graphql(HISTORY, { last: FEED_ROWS });
    for (const edge of events.edges) onEvent(edge.node, { history: true });
    state.lastCursor = events.pageInfo.endCursor;
    subscribe();
  } catch (error) {
    setState('failed', 'not signed in');
    showTokenForm(`${error.code ?? 'ERROR'}: ${error.message}`);
  }
}

$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  start($('token-input').value.trim());
});
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
