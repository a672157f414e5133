import MQTTIngest

// Temporary until the fail-closed spool lands.
extension SpoolRecord { var isCorrupt: Bool { false } }
extension SpoolWriter {
    var failure: String? { nil }
    var failedWrites: Int64 { 0 }
    var failedSyncs: Int64 { 0 }
}
extension FrameSpool { var corruptRecords: Int64 { 0 } }
