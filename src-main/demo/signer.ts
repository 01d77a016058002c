// THE one place where demo mode chooses the operator's signer. Today: the software operator signer
// (src-main/fleet/operator-signer.ts) over a demo key kept in the demo directory. When the emulated hardware signer
// lands, switch `demoOperatorSigner` to it here; nothing else in the demo changes (it only uses the provider).
//
// The key is a demo key: created once per demo directory (mode 0600), never the operator's, and `--demo --reset`
// wipes it with the rest of the demo directory.
import { join } from 'node:path'
import { loadOrCreateAtmKey } from '../atm-sim/simulator'
import { type OperatorSignerProvider, softwareOperatorSigner } from '../fleet/operator-signer'

/** The operator signer demo mode pairs its ATMs with. */
export async function demoOperatorSigner(demoRoot: string): Promise<OperatorSignerProvider> {
  // Same file format as the ATM simulator's key (64 hex, 0600): reuse its loader.
  const { secretKey } = await loadOrCreateAtmKey(join(demoRoot, 'operator.key'))
  try {
    return await softwareOperatorSigner(secretKey)
  } finally {
    secretKey.fill(0)
  }
}
