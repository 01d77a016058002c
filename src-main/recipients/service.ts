// The recipients service: the `recipients.*` IPC handlers (shapes in src-shared/ipc/recipients.ts) over this
// module's ledger procedures, and the read-only `payouts.list` / `receipts.list` history views.
//
// What happens here and not in the procedures: the live destination check (src-main/payouts/destinations/check.ts)
// runs before anything is stored, and a failed check refuses the change with the reason in operator words; an NWC
// URI is sealed in the secret store under `nwc:<kind>:<id>` (the ledger keeps the slot name and the wallet pubkey
// only, exactly like an LP's); a previous NWC secret the recipient no longer uses is discarded; ledger refusals
// become ApiErrors whose `field` names the IPC argument (the LP service's mapping). The wallet reconciliation's
// status and open differences (`reconcile.*`, src-main/reconcile/loop.ts) are answered here too, for the Audit
// screen. Changes to one recipient run one
// at a time, so two interleaved edits cannot undo each other's sealed secret.

import { ApiError, type Handlers } from '../../src-shared/ipc/contract'
import type { DestinationInput } from '../../src-shared/ipc/lps'
import type { RecipientKindView, RecipientsView, RecipientView } from '../../src-shared/ipc/recipients'
import type { StoredDestination } from '../lps/procedures'
import { ledgerCaller, secretStoreOnce } from '../lps/service'
import { createDestinationChecker, type DestinationChecker } from '../payouts/destinations/check'
import { openReconcileDifferences, reconcileStatus } from '../reconcile/loop'
import { SecretBoxError } from '../secrets/secret-box'
import type { SecretStore } from '../secrets/secret-store'
import type { ServiceContext } from '../service-context'
import type { RecipientChangeRow, RecipientRow } from './procedures'

type RecipientMethods =
  | 'recipients.list'
  | 'recipients.setDestination'
  | 'recipients.setThreshold'
  | 'recipients.setActive'
  | 'recipients.setSplitWeights'
  | 'payouts.list'
  | 'receipts.list'
  | 'reconcile.status'
  | 'reconcile.differences'

export interface RecipientsWiring {
  /** Where NWC destination URIs are sealed (the LP service's store). Absent: NWC destinations are refused. */
  secrets?: SecretStore | (() => Promise<SecretStore>)
  /** The live check (tests inject one; default: real LNURL / NWC / node-id checks). */
  checker?: DestinationChecker
}

/** Who acts from the console's UI (the operator-signer issue will put the operator's npub here). */
const AUTHOR = 'operator'

/** The secret-store slot of a recipient's own NWC connection. */
export const recipientNwcSlot = (kind: string, id: string) => `nwc:${kind}:${id}`

export function recipientLabel(kind: string, id: string): string {
  return kind === 'platform' ? 'Platform fee' : `Split ${id}`
}

function destinationView(d: StoredDestination | null): RecipientView['destination'] {
  if (d === null) return null
  if (d.kind === 'nwc') return { kind: 'nwc', walletPubkey: d.walletPubkey }
  return d
}

export function recipientView(r: RecipientRow): RecipientView {
  const accrued = BigInt(r.accruedMsat)
  return {
    recipientKind: r.recipientKind as RecipientKindView,
    recipientId: r.recipientId,
    label: recipientLabel(r.recipientKind, r.recipientId),
    destination: destinationView(r.destination),
    health: r.health,
    accruedMsat: r.accruedMsat,
    accruedSat: (accrued > 0n ? accrued / 1000n : 0n).toString(),
    thresholdSat: (BigInt(r.thresholdMsat) / 1000n).toString(),
    active: r.active,
    weights: r.weights,
    paidMsat: r.paidMsat,
    waitingSat: r.waitingSat,
  }
}

export function recipientsHandlers(
  ctx: ServiceContext,
  wiring: RecipientsWiring = {},
): Pick<Handlers, RecipientMethods> {
  const log = ctx.log.child('recipients')
  const checker = wiring.checker ?? createDestinationChecker({ logger: log.child('check') })
  const now = () => ctx.clock.nowMs()
  const secrets = secretStoreOnce(wiring.secrets)
  const call = ledgerCaller<RecipientMethods>(ctx, log, 'recipient')

  const locks = new Map<string, Promise<unknown>>()
  function serialFor<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = locks.get(key) ?? Promise.resolve()
    const next = prev.then(fn, fn)
    const settled = next.catch(() => undefined)
    locks.set(key, settled)
    void settled.then(() => {
      if (locks.get(key) === settled) locks.delete(key)
    })
    return next
  }

  async function setDestination(kind: RecipientKindView, id: string, d: DestinationInput | null) {
    const before = await call<RecipientRow>('recipients.setDestination', 'recipients.get', {
      recipientKind: kind,
      recipientId: id,
    })
    let stored: StoredDestination | null = null
    let check: { ok: boolean; text: string } | null = null
    let undo: () => Promise<void> = async () => {}
    if (d !== null) {
      const result = await checker.check(d)
      if (!result.ok) {
        log.warn('recipient destination refused by its live check', { kind, id, destination: d.kind })
        const field = d.kind === 'nwc' ? 'args[0].destination.uri' : 'args[0].destination'
        throw new ApiError('bad_args', `${field}: ${result.text}`, field)
      }
      check = { ok: true, text: result.text }
      if (d.kind === 'nwc') {
        const store = await secrets()
        const slot = recipientNwcSlot(kind, id)
        const previous = store.has(slot) ? await store.get(slot).catch(() => undefined) : undefined
        try {
          await store.put(slot, d.uri)
        } catch (e) {
          log.error('nwc destination could not be sealed', {
            kind,
            id,
            reason: e instanceof SecretBoxError ? e.code : (e as Error).message,
          })
          throw new ApiError('unavailable', 'the NWC connection could not be stored encrypted; see the log')
        }
        undo = async () => {
          if (previous === undefined) await store.delete(slot).catch(() => false)
          else await store.put(slot, previous).catch(() => undefined)
        }
        stored = { kind: 'nwc', secretSlot: slot, walletPubkey: result.walletPubkey! }
      } else stored = d
    }
    let row: RecipientRow
    try {
      row = await call<RecipientRow>('recipients.setDestination', 'recipients.setDestination', {
        recipientKind: kind,
        recipientId: id,
        destination: stored,
        check,
        author: AUTHOR,
        atMs: now(),
      })
    } catch (e) {
      await undo()
      throw e
    }
    // An NWC connection the recipient no longer uses is discarded, so no stale wallet secret stays at rest.
    if (before.destination?.kind === 'nwc' && stored?.kind !== 'nwc' && wiring.secrets) {
      await (await secrets()).delete(before.destination.secretSlot).catch(() => false)
    }
    log.info('recipient destination changed', { kind, id, destination: stored?.kind ?? 'none' })
    ctx.emit('notice', {
      level: stored ? 'info' : 'warn',
      text: stored
        ? `${recipientLabel(kind, id)}: destination saved (${check!.text})`
        : `${recipientLabel(kind, id)}: destination removed; its sats wait until a new one is set`,
      atMs: now(),
    })
    return recipientView(row)
  }

  return {
    'recipients.list': async (o) => {
      const r = await call<{ recipients: RecipientRow[]; changes: RecipientChangeRow[] }>(
        'recipients.list',
        'recipients.list',
        { atMs: now(), ...(o.changeLimit === undefined ? {} : { changeLimit: o.changeLimit }) },
      )
      const view: RecipientsView = { recipients: r.recipients.map(recipientView), changes: r.changes }
      return view
    },
    'recipients.setDestination': (o) =>
      serialFor(`${o.recipientKind}:${o.recipientId}`, () =>
        setDestination(o.recipientKind, o.recipientId, o.destination),
      ),
    'recipients.setThreshold': async (o) => {
      const sats = BigInt(o.thresholdSat)
      if (sats < 1n) {
        throw new ApiError('bad_args', 'args[0].thresholdSat: must be at least 1 sat', 'args[0].thresholdSat')
      }
      const row = await call<RecipientRow>(
        'recipients.setThreshold',
        'recipients.setThreshold',
        {
          recipientKind: o.recipientKind,
          recipientId: o.recipientId,
          thresholdMsat: (sats * 1000n).toString(),
          author: AUTHOR,
          atMs: now(),
        },
        { thresholdMsat: 'args[0].thresholdSat' },
      )
      log.info('recipient threshold changed', {
        kind: o.recipientKind,
        id: o.recipientId,
        thresholdSat: o.thresholdSat,
      })
      return recipientView(row)
    },
    'recipients.setActive': async (o) => {
      const row = await call<RecipientRow>('recipients.setActive', 'recipients.setActive', {
        recipientKind: o.recipientKind,
        recipientId: o.recipientId,
        active: o.active,
        author: AUTHOR,
        atMs: now(),
      })
      log.info('recipient switched', { kind: o.recipientKind, id: o.recipientId, active: o.active })
      return recipientView(row)
    },
    'recipients.setSplitWeights': async (o) => {
      const r = await call<{ seqs: number[]; changes: number }>(
        'recipients.setSplitWeights',
        'recipients.setSplitWeights',
        { splits: o.splits, note: o.note ?? null, author: AUTHOR, atMs: now() },
      )
      log.info('split weights changed', { configurations: r.seqs.length, changes: r.changes })
      ctx.emit('notice', { level: 'info', text: 'Split weights saved; they apply to sales from now on', atMs: now() })
      return { configurations: r.seqs.length, changes: r.changes }
    },
    'payouts.list': (o) =>
      call('payouts.list', 'history.payouts', {
        ...(o.recipientKind === undefined ? {} : { recipientKind: o.recipientKind }),
        ...(o.recipientId === undefined ? {} : { recipientId: o.recipientId }),
        ...(o.state === undefined ? {} : { state: o.state }),
        ...(o.limit === undefined ? {} : { limit: o.limit }),
        ...(o.cursor === undefined ? {} : { cursor: o.cursor }),
      }),
    'reconcile.status': () => reconcileStatus(ctx.ledger(), now()),
    'reconcile.differences': async (o) =>
      (await openReconcileDifferences(ctx.ledger(), now(), o.limit ?? 200)).differences,
    'receipts.list': (o) =>
      call('receipts.list', 'history.receipts', {
        ...(o.limit === undefined ? {} : { limit: o.limit }),
        ...(o.cursor === undefined ? {} : { cursor: o.cursor }),
      }),
  }
}
