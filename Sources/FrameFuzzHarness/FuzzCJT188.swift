import GatewayCore

/// Runs every CJ/T 188 decode path over one input (filled in with the CJ/T 188 decoder).
func fuzzCJT188(_ input: UnsafeRawBufferPointer, reseal: Bool) {}
