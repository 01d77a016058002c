// The fleet feature inside the real services (src-main/services.ts): inert with no fleet wiring (no sockets, the
// contract methods answer empty), and, wired to a real relay process and the real wallet service, answering
// `relay.status`, `fleet.machines` and `fleet.rejected` for a paired simulated ATM.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAppLog } from '../../src-main/app-log'
import type { Services } from '../../src-main/services'
import { createSoftwareSigner } from '../../src-main/signer/software-signer'
import type { EventName } from '../../src-shared/ipc/contract'
import { type FleetHarness, startFleetHarness, waitFor } from '../support/fleet-harness'
import { startNodeServices } from '../support/services'
import { useTempDirs } from '../support/temp-dirs'

const tmp = useTempDirs('fleet-services-')

describe('fleet feature in the services', () => {
  it('stays inert without fleet wiring: no relays, no machines, nothing rejected', async () => {
    const appLog = createAppLog()
    const services = await startNodeServices({ dataDir: tmp(), appLog })
    expect(await services.handlers['relay.status']()).toEqual({ relays: [] })
    expect(await services.handlers['fleet.machines']()).toEqual([])
    expect(await services.handlers['fleet.rejected']({})).toEqual([])
    expect(appLog.recent(200).some((r) => r.msg === 'fleet feature inert')).toBe(true)
    await services.close()
  })

  describe('wired to a real relay and wallet service', () => {
    let h: FleetHarness
    let services: Services
    const emitted: EventName[] = []
    beforeAll(async () => {
      h = await startFleetHarness({ recordRelays: 1 })
      services = await startNodeServices({
        dataDir: tmp(),
        emit: (event) => emitted.push(event),
        fleet: {
          operatorPubkey: h.operatorPubkey,
          consoleSigner: createSoftwareSigner(h.consoleSecret),
          nwcUri: h.op.uri,
          relays: [h.recordRelays[0]!.url],
        },
      })
    }, 120_000)
    afterAll(async () => {
      await services?.close()
      await h?.close()
    })

    it('reports relay health, the machine with its booked record, and a rejected record with its reason', async () => {
      const { sim } = await h.pairAtm({ machineId: 'atm-svc-01', members: [] })
      await waitFor('relay connected', async () =>
        (await services.handlers['relay.status']()).relays.some((r) => r.state === 'connected'),
      )
      expect(emitted).toContain('relay.status')
      await waitFor('machine listed', async () =>
        (await services.handlers['fleet.machines']()).some((m) => m.machineId === 'atm-svc-01'),
      )
      await sim.sell()
      const bad = await sim.sell({ scenario: 'malformed-content' })
      const m = await waitFor('one booked record', async () =>
        (await services.handlers['fleet.machines']()).find((x) => x.machineId === 'atm-svc-01' && x.booked === 1),
      )
      expect(m).toMatchObject({ atmPubkey: sim.atmPubkey, rosterStatus: 'member', currency: 'EUR' })
      const rejected = await waitFor('the rejected record', async () =>
        (await services.handlers['fleet.rejected']({ limit: 10 })).find((r) => r.eventId === bad.event.id),
      )
      expect(rejected).toMatchObject({ reason: 'schema_invalid', atmPubkey: sim.atmPubkey, retryable: false })
    })
  })
})
