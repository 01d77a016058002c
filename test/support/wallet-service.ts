// The NIP-47 wallet service over the simulated Lightning network now lives under src-main/embedded/ (demo mode runs
// it too); the suites keep importing it from here.
export * from '../../src-main/embedded/wallet-service'
