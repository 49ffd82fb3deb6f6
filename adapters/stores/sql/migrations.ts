/**
 * Versioned migrations, in order. Each runs once, inside the transaction that records it in
 * `paystate_migrations`; an advisory lock keeps two processes from migrating at the same time.
 */

/** One migration. */
export interface Migration {
  readonly version: number
  readonly name: string
  readonly sql: readonly string[]
}

/** Every migration paystate has shipped, oldest first. Never edit one that has shipped: add another. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "payments, journal, outbox, timers, seen",
    sql: [
      `create table paystate_payments (
        id text primary key,
        provider text not null,
        provider_ref text,
        status text not null,
        currency text not null,
        amount bigint not null,
        external_order_num text,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        version integer not null,
        snapshot jsonb not null)`,
      `create index paystate_payments_provider_ref on paystate_payments (provider, provider_ref)`,
      `create index paystate_payments_created on paystate_payments (created_at desc, id desc)`,
      `create index paystate_payments_status on paystate_payments (status, created_at desc)`,
      `create index paystate_payments_order on paystate_payments (external_order_num)`,
      `create table paystate_journal (
        seq bigserial primary key,
        payment_id text not null,
        version integer not null,
        at timestamptz not null,
        event jsonb not null,
        status text not null,
        snapshot jsonb not null,
        unique (payment_id, version))`,
      `create table paystate_outbox (
        id text primary key,
        payment_id text not null,
        provider text not null,
        op_id text not null,
        op text not null,
        payload jsonb not null,
        idempotency_key text not null,
        attempts integer not null,
        state text not null,
        available_at timestamptz not null,
        created_at timestamptz not null,
        last_error text)`,
      `create index paystate_outbox_due on paystate_outbox (state, available_at)`,
      `create table paystate_timers (
        payment_id text not null,
        timer_id text not null,
        name text not null,
        fire_at timestamptz not null,
        data jsonb not null,
        primary key (payment_id, timer_id))`,
      `create index paystate_timers_due on paystate_timers (fire_at)`,
      `create table paystate_seen (key text primary key, at timestamptz not null default now())`,
    ],
  },
  {
    version: 2,
    name: "review: payments that need a person, retry windows of outbox entries",
    sql: [
      `alter table paystate_payments add column needs_review boolean not null default false`,
      `create index paystate_payments_review on paystate_payments (created_at desc, id desc) where needs_review`,
      `alter table paystate_outbox add column retry_since timestamptz`,
      `create index paystate_outbox_parked on paystate_outbox (created_at) where state = 'parked'`,
    ],
  },
  {
    version: 3,
    name: "scale: event-only journal, payment id leading every key, an index per list filter",
    sql: [
      // The journal keeps the event, not the snapshot after it (that made a payment's journal O(n²)).
      // Rows written before this migration keep theirs; new rows leave it null.
      `alter table paystate_journal alter column snapshot drop not null`,
      // Every key leads with the payment id, so the tables distribute by it (Citus) and a step's
      // writes stay on one shard. `seq` keeps commit order for allJournal.
      `alter table paystate_journal drop constraint paystate_journal_pkey`,
      `alter table paystate_journal drop constraint paystate_journal_payment_id_version_key`,
      `alter table paystate_journal add primary key (payment_id, version)`,
      `create index paystate_journal_seq on paystate_journal (seq)`,
      `alter table paystate_outbox drop constraint paystate_outbox_pkey`,
      `alter table paystate_outbox add primary key (payment_id, id)`,
      // Leases and reviews name an entry by id alone.
      `create index paystate_outbox_id on paystate_outbox (id)`,
      // One index per list filter, each ending in the list order (created_at desc, id desc): a page is
      // an index range scan whatever the table size, and keyset cursors continue where it stopped.
      `drop index paystate_payments_status`,
      `create index paystate_payments_status on paystate_payments (status, created_at desc, id desc)`,
      `drop index paystate_payments_order`,
      `create index paystate_payments_order on paystate_payments (external_order_num, created_at desc, id desc)`,
      `create index paystate_payments_currency on paystate_payments (currency, created_at desc, id desc)`,
      `create index paystate_payments_provider on paystate_payments (provider, created_at desc, id desc)`,
      // Status and currency together (KOMOJU's list takes both, often with a time window): without it
      // a rare combination is counted by walking one of them and reading every row's other column.
      `create index paystate_payments_status_currency on paystate_payments (status, currency, created_at desc, id desc)`,
      // Pending entries only: the claim query never walks the done ones, however many there are.
      `drop index paystate_outbox_due`,
      `create index paystate_outbox_due on paystate_outbox (available_at) where state = 'pending'`,
      // A payment's snapshot grows with its refunds and is rewritten on every step: lz4 compresses and
      // decompresses it about twice as fast as the default pglz. Servers built without lz4 keep pglz.
      `do $$ begin
         alter table paystate_payments alter column snapshot set compression lz4;
         alter table paystate_journal alter column event set compression lz4;
         alter table paystate_outbox alter column payload set compression lz4;
       exception when others then null;
       end $$`,
    ],
  },
  {
    version: 4,
    name: "refund entries as rows: a commit rewrites the refunds that changed, not all of them",
    sql: [
      // One row per entry of a payment snapshot's `context.refunds` (core.ts splits and reassembles
      // them), so a step on a payment with hundreds of settled refunds no longer rewrites every one in
      // the payment row's snapshot. The key leads with the payment id, like every payment table.
      `create table paystate_refund_entries (
        payment_id text not null,
        refund_id text not null,
        seq integer not null,
        entry jsonb not null,
        primary key (payment_id, refund_id))`,
    ],
  },
]
