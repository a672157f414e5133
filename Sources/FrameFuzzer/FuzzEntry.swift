// libFuzzer entry point for the gateway's frame decoders (build and run: firmware-protocols/README.md).
// This file must stay the target's only file and must not be main.swift: SwiftPM then builds it as a library-style
// executable, and libFuzzer provides main. The harness itself lives in FrameFuzzHarness.

import FrameFuzzHarness

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEntry(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzOneInput(data, size)
}
