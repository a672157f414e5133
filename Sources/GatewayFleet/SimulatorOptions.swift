public import GatewayCore

/// What a simulated fleet does.
public struct SimulatorOptions: Sendable {
    /// Number of simulated meters.
    public var meters = 50
    /// Id of the first meter; the fleet uses consecutive ids.
    public var firstMeterID: UInt64 = 100_000_001
    /// Frames per second over the whole fleet; 0 publishes as fast as the in-flight limit allows.
    public var ratePerSecond = 40.0
    /// How long frames are published.
    public var duration: Duration = .seconds(30)
    /// Seed of the households, so a fleet is reproducible.
    public var seed: UInt64 = 1
    /// The secret each meter key is derived from (see ``FleetKeys``).
    public var fleetSecret = AES128Key(
        AES128.Block(word0: 0x6465_6D6F, word1: 0x2D66_6C65, word2: 0x6574_2D6B, word3: 0x6579_2131)
    )
    /// Each meter starts with a daily report (48 half-hour points of yesterday and 3 frozen totals).
    public var dailyReports = true
    /// Chance per frame that a random device alarm (battery low, magnetic attack) is sent instead of a reading.
    public var randomAlarmProbability = 0.002
    /// Share of meters with a small continuous leak flow.
    public var leakingShare = 0.1
    /// Send the scripted alarms (methane, over-flow, continuous flow, tilt, battery) at fixed points of the run.
    public var scriptedAlarms = true
    /// Publish malformed frames (bad CRC, bad MAC, unknown meter, garbage, topic mismatch, other protocol) midway.
    public var injectFaults = false
    /// Resend a frame that has no ack after this long; `nil` never resends.
    public var retransmitAfter: Duration? = .seconds(5)
    /// Resend a frame at most this many times.
    public var maxRetransmissions = 5
    /// After the run, wait this long for outstanding acks (resending as above).
    public var drain: Duration = .seconds(15)
    /// At most this many frames wait for an ack at once; generation pauses beyond it.
    public var maxInFlight = 20_000
    /// Called on the publishing task right after each alarm frame was handed to the MQTT client (the first send
    /// only, not resends): the benchmark of alarm latency starts its clock here (see ``AlarmLatencyRecorder``).
    public var onAlarmPublished: (@Sendable (AlarmPublication) -> Void)?

    /// The defaults: 50 meters at 40 frames/s for 30 s, scripted alarms on, faults off.
    public init() {}
}
