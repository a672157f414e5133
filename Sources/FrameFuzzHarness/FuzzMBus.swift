import GatewayCore

/// Runs every wireless or wired M-Bus decode path over one input (filled in with the M-Bus decoder).
func fuzzMBus(_ input: UnsafeRawBufferPointer, isWired: Bool, reseal: Bool) {}
