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
]
