// IPC handlers of LP self-service (issue 12; docs/lp-rpc.md §7): the operator's view of each LP's self-service
// status and last requests, and the on/off switches. Reads and writes go through the module's ledger procedures
// (./procedures.ts); a refusal (unknown LP) comes back as a typed ApiError naming the field.
import { ApiError, type Handlers } from '../../src-shared/ipc/contract'
import type { LpServiceStatusView } from '../../src-shared/ipc/lp-service'
import { toApiError } from '../lps/service'
import type { ServiceContext } from '../service-context'

type Methods = 'lpService.status' | 'lpService.setEnabled'

export function lpServiceHandlers(ctx: ServiceContext): Pick<Handlers, Methods> {
  const log = ctx.log.child('lp-service')
  const status = (limit = 10) => ctx.ledger().call<LpServiceStatusView>('lpss.status', { limit })
  return {
    'lpService.status': ({ limit }) => status(limit),
    'lpService.setEnabled': async ({ lpId, enabled }) => {
      try {
        await ctx.ledger().call('lpss.setEnabled', { lpId, enabled, author: 'operator', atMs: ctx.clock.nowMs() })
      } catch (e) {
        const api = toApiError(e, { lpId: 'args[0].lpId' })
        if (api instanceof ApiError)
          log.warn('self-service switch refused', { lpId, code: api.code, reason: api.message })
        throw api
      }
      log.info('self-service switched', { lpId, enabled })
      return status()
    },
  }
}
