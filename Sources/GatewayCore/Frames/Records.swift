/// Which decoder produced a stored row.
public enum FrameProtocol: String, Sendable, Hashable, CaseIterable {
    case native
    case cjt188
    case wmbus
    case mbus
}

/// What a stored reading row represents.
public enum ReadingKind: Int16, Sendable, Hashable {
    /// A periodic reading frame.
    case periodic = 0
    /// A daily frozen total (register value at the meter's daily freeze time).
    case dailyFrozen = 1
    /// The register snapshot carried by an alarm frame.
    case alarmSnapshot = 2
    /// A value the meter stored earlier and reports again: an M-Bus storage number ≥ 1 (read at its storage date
    /// when the frame carries one), the CJ/T 188 settlement-day register (read at the frame's meter time).
    case historic = 3
}

/// Which volume a register counts: gas meters may report the volume as measured and the volume converted to base
/// conditions, and the two must never be mixed.
public enum VolumeBasis: Int16, Sendable, Hashable, CaseIterable {
    /// The protocol does not say (native and CJ/T 188 registers, M-Bus volumes without VIFE `3A`/`3E`).
    case unspecified = 0
    /// Volume at measurement conditions, Vm (M-Bus VIFE `3A`).
    case uncorrected = 1
    /// Volume converted to base conditions, Vb (M-Bus VIFE `3E`).
    case converted = 2

    /// The basis a word names (`unspecified`, `uncorrected`, `converted`), or `nil`.
    public init?(name: String) {
        guard let basis = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = basis
    }

    /// The lower-case word used in JSON and SQL.
    public var name: String {
        switch self {
        case .unspecified: "unspecified"
        case .uncorrected: "uncorrected"
        case .converted: "converted"
        }
    }
}

/// One meter reading, ready for the sink. Natural key: (meter, read time, kind, basis, storage, tariff).
///
/// Volumes are scaled integers in millilitres (10⁻⁶ m³), which holds every protocol's resolution exactly.
public struct ReadingRecord: Sendable, Equatable {
    public var meterID: Int64
    /// The meter's own clock at the reading.
    public var readAt: Timestamp
    /// When the gateway received the frame.
    public var receivedAt: Timestamp
    public var kind: ReadingKind
    public var volumeMillilitres: Int64
    /// 10^(integer register digits) m³ in millilitres; 0 when the register size is unknown.
    public var registerModulusMillilitres: Int64
    public var flowMillilitresPerHour: Int64?
    public var valve: ValveState
    public var batteryMillivolts: Int32?
    public var temperatureCentiCelsius: Int32?
    /// Received signal strength: an `Int16`, as the only protocol that reports it (native, −150…0 dBm) carries it,
    /// and as `readings.signal_dbm` (a `smallint`, migration v28) stores it.
    public var signalDBm: Int16?
    public var statusBits: Int64
    public var frameCounter: Int64?
    public var source: FrameProtocol
    /// The volume channel (Vm, Vb or not stated).
    public var basis: VolumeBasis
    /// The protocol's storage number: 0 for the current value, ≥ 1 for stored values (CJ/T 188 settlement day: 1).
    public var storage: Int16
    /// The tariff register (M-Bus); 0 for the total register.
    public var tariff: Int16
    /// How the volume (and the fields that came with it) was protected; ``statusBits`` may hold header bits of
    /// lower protection (the OMS mode-5 status byte is plain).
    public var protection: ProtectionLevel
    /// Which key protected the volume: `nil` when nothing did (``protection`` is `plain`);
    /// ``KeySource/manufacturerDefault`` (with `plain`) when a published default key opened it.
    public var keySource: KeySource?

    public init(
        meterID: Int64,
        readAt: Timestamp,
        receivedAt: Timestamp,
        kind: ReadingKind,
        volumeMillilitres: Int64,
        registerModulusMillilitres: Int64,
        flowMillilitresPerHour: Int64?,
        valve: ValveState,
        batteryMillivolts: Int32?,
        temperatureCentiCelsius: Int32?,
        signalDBm: Int16?,
        statusBits: Int64,
        frameCounter: Int64?,
        source: FrameProtocol,
        basis: VolumeBasis = .unspecified,
        storage: Int16 = 0,
        tariff: Int16 = 0,
        protection: ProtectionLevel = .plain,
        keySource: KeySource? = nil
    ) {
        self.meterID = meterID
        self.readAt = readAt
        self.receivedAt = receivedAt
        self.kind = kind
        self.volumeMillilitres = volumeMillilitres
        self.registerModulusMillilitres = registerModulusMillilitres
        self.flowMillilitresPerHour = flowMillilitresPerHour
        self.valve = valve
        self.batteryMillivolts = batteryMillivolts
        self.temperatureCentiCelsius = temperatureCentiCelsius
        self.signalDBm = signalDBm
        self.statusBits = statusBits
        self.frameCounter = frameCounter
        self.source = source
        self.basis = basis
        self.storage = storage
        self.tariff = tariff
        self.protection = protection
        self.keySource = KeySource.of(protection, keySource)
    }
}

/// Consumption in one interval of a meter's interval log. Natural key: (meter, interval start).
public struct IntervalRecord: Sendable, Equatable {
    public var meterID: Int64
    public var intervalStart: Timestamp
    public var intervalMinutes: Int16
    /// Volume consumed during the interval, in millilitres.
    public var volumeMillilitres: Int64
    /// Register value at the end of the interval, in millilitres.
    public var endIndexMillilitres: Int64
    public var receivedAt: Timestamp
    /// How the interval log was protected.
    public var protection: ProtectionLevel
    /// Which key protected it (as ``ReadingRecord/keySource``).
    public var keySource: KeySource?

    public init(
        meterID: Int64,
        intervalStart: Timestamp,
        intervalMinutes: Int16,
        volumeMillilitres: Int64,
        endIndexMillilitres: Int64,
        receivedAt: Timestamp,
        protection: ProtectionLevel = .plain,
        keySource: KeySource? = nil
    ) {
        self.meterID = meterID
        self.intervalStart = intervalStart
        self.intervalMinutes = intervalMinutes
        self.volumeMillilitres = volumeMillilitres
        self.endIndexMillilitres = endIndexMillilitres
        self.receivedAt = receivedAt
        self.protection = protection
        self.keySource = KeySource.of(protection, keySource)
    }
}

/// An alarm or event a meter reported. Natural key: (meter, raised at, raw code, cleared).
public struct AlarmRecord: Sendable, Equatable {
    public var meterID: Int64
    /// The meter's clock when it raised (or cleared) the condition.
    public var raisedAt: Timestamp
    public var receivedAt: Timestamp
    public var source: FrameProtocol
    /// The protocol's own code, kept beside the mapped condition.
    public var rawCode: Int32
    public var condition: AlarmCondition
    public var isCleared: Bool
    public var priority: TicketPriority
    public var valve: ValveState
    /// A code-specific measurement (e.g. methane %LEL, pressure in Pa); 0 when the code defines none.
    public var detail: Int64
    public var frameCounter: Int64?
    /// How the field the alarm was derived from was protected: an alarm from the OMS mode-5 status byte is
    /// ``ProtectionLevel/plain`` even on an encrypted frame. It still opens its ticket, marked unauthenticated.
    public var protection: ProtectionLevel
    /// Which key protected the field the alarm came from (as ``ReadingRecord/keySource``).
    public var keySource: KeySource?

    public init(
        meterID: Int64,
        raisedAt: Timestamp,
        receivedAt: Timestamp,
        source: FrameProtocol,
        rawCode: Int32,
        condition: AlarmCondition,
        isCleared: Bool,
        priority: TicketPriority,
        valve: ValveState,
        detail: Int64,
        frameCounter: Int64?,
        protection: ProtectionLevel = .plain,
        keySource: KeySource? = nil
    ) {
        self.meterID = meterID
        self.raisedAt = raisedAt
        self.receivedAt = receivedAt
        self.source = source
        self.rawCode = rawCode
        self.condition = condition
        self.isCleared = isCleared
        self.priority = priority
        self.valve = valve
        self.detail = detail
        self.frameCounter = frameCounter
        self.protection = protection
        self.keySource = KeySource.of(protection, keySource)
    }
}

extension KeySource {
    /// The key source a row stores: a level above `plain` was reached with the meter's own key (only its own key
    /// raises the level), so it is ``meter`` whatever was passed; a `plain` row keeps the given source (`nil`, or
    /// ``manufacturerDefault`` for content a default key opened).
    static func of(_ protection: ProtectionLevel, _ given: KeySource?) -> KeySource? {
        protection > .plain ? .meter : given
    }
}

/// One accepted uplink frame of a protocol with frame counters. Natural key: (meter, frame counter).
///
/// The log makes replays harmless: a frame whose (meter, counter) is already stored changes nothing.
public struct UplinkFrameRecord: Sendable, Equatable {
    public var meterID: Int64
    public var frameCounter: Int64
    public var frameType: Int16
    public var meterTime: Timestamp
    public var receivedAt: Timestamp

    public init(meterID: Int64, frameCounter: Int64, frameType: Int16, meterTime: Timestamp, receivedAt: Timestamp) {
        self.meterID = meterID
        self.frameCounter = frameCounter
        self.frameType = frameType
        self.meterTime = meterTime
        self.receivedAt = receivedAt
    }
}

/// A frame that could not be turned into rows, kept with its raw bytes for replay after a fix.
/// Natural key: (received at, topic, payload hash).
public struct QuarantineRecord: Sendable, Equatable {
    public var receivedAt: Timestamp
    public var topic: String
    public var payload: [UInt8]
    /// A stable machine-readable reason code such as `bad_crc`, `bad_mac`, `unknown_meter`.
    public var reason: String
    /// Human-readable detail. Never contains key material.
    public var detail: String
    public var source: FrameProtocol?
    /// The meter address as the frame or topic named it, when it could be read.
    public var meterAddress: String?

    public init(
        receivedAt: Timestamp,
        topic: String,
        payload: [UInt8],
        reason: String,
        detail: String,
        source: FrameProtocol?,
        meterAddress: String?
    ) {
        self.receivedAt = receivedAt
        self.topic = topic
        self.payload = payload
        self.reason = reason
        self.detail = detail
        self.source = source
        self.meterAddress = meterAddress
    }

    /// FNV-1a 64 over topic and payload, the dedupe part of the natural key.
    public var payloadHash: Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in topic.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        hash = (hash ^ 0xff) &* 0x0000_0100_0000_01b3
        for byte in payload {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return Int64(bitPattern: hash)
    }
}

/// A meter's answer to a command the gateway sent (native command-result frame).
public struct CommandResultRecord: Sendable, Equatable {
    public var meterID: Int64
    /// The frame counter of the command it answers.
    public var commandFrameCounter: Int64
    /// `executed`, `refused`, `failed` or `unsupported`.
    public var outcome: String
    public var valve: ValveState
    public var receivedAt: Timestamp

    public init(meterID: Int64, commandFrameCounter: Int64, outcome: String, valve: ValveState, receivedAt: Timestamp) {
        self.meterID = meterID
        self.commandFrameCounter = commandFrameCounter
        self.outcome = outcome
        self.valve = valve
        self.receivedAt = receivedAt
    }
}

/// Everything one database transaction writes. Arrays keep their capacity between batches.
public struct SinkBatch: Sendable {
    public var readings: [ReadingRecord] = []
    public var intervals: [IntervalRecord] = []
    public var alarms: [AlarmRecord] = []
    public var frames: [UplinkFrameRecord] = []
    public var quarantine: [QuarantineRecord] = []
    /// Answers to commands (rare); recorded on the command and its ticket.
    public var commandResults: [CommandResultRecord] = []
    /// One gate per admitted frame, in order: the writer stores a frame's rows only if its identity is new.
    public var gates: [FrameGate] = []
    /// Full-frame M-Bus record layouts to remember for compact frames (rare; not tied to a gate: a layout seen in a
    /// duplicate frame is still the meter's layout).
    public var formatLayouts: [FormatLayoutRecord] = []

    public init() {}

    /// Reserves room so that batches up to `frames` frames do not reallocate.
    public mutating func reserveCapacity(frames count: Int) {
        readings.reserveCapacity(count * 2)
        intervals.reserveCapacity(count * 48)
        alarms.reserveCapacity(count)
        frames.reserveCapacity(count)
        gates.reserveCapacity(count)
    }

    public var isEmpty: Bool {
        readings.isEmpty && intervals.isEmpty && alarms.isEmpty && frames.isEmpty && quarantine.isEmpty
            && commandResults.isEmpty && gates.isEmpty && formatLayouts.isEmpty
    }

    /// Empties the batch, keeping capacity.
    public mutating func removeAll() {
        readings.removeAll(keepingCapacity: true)
        intervals.removeAll(keepingCapacity: true)
        alarms.removeAll(keepingCapacity: true)
        frames.removeAll(keepingCapacity: true)
        quarantine.removeAll(keepingCapacity: true)
        commandResults.removeAll(keepingCapacity: true)
        gates.removeAll(keepingCapacity: true)
        formatLayouts.removeAll(keepingCapacity: true)
    }

    /// The batch's alarm frames as a batch of their own, to be stored ahead of the rest, and the rest. A frame with
    /// an alarm row moves ahead only if no frame of its meter stays behind before it, so each meter's frames keep
    /// their order (``ReplayRule``'s high-water mark needs them in order); several alarm frames of one meter move
    /// together, in order. Quarantine rows, format layouts and rows before the first gate stay in the rest.
    /// - Parameters:
    ///   - behind: Meters with frames before this batch that are not stored yet (a batch being committed): their
    ///     frames do not move.
    ///   - stored: Gates of this batch already stored (alarm frames committed ahead of it): they neither move nor
    ///     hold their meter's later frames back, and are in neither batch.
    /// - Returns: `nil` if no frame moves; else both batches with, for each of their gates, its index in this batch.
    public func splittingOffAlarms(behind: Set<Int64> = [], stored: [Int] = []) -> SinkBatchSplit? {
        let storedSet = Set(stored)
        var ahead: [Int] = []
        var metersBehind = behind
        for (index, gate) in gates.enumerated() where !storedSet.contains(index) {
            let alarmsEnd = index + 1 < gates.count ? gates[index + 1].firstAlarm : alarms.count
            if alarmsEnd > gate.firstAlarm, !metersBehind.contains(gate.meterID) {
                ahead.append(index)
            } else {
                metersBehind.insert(gate.meterID)
            }
        }
        guard !ahead.isEmpty else { return nil }
        return splitting(gates: ahead, dropping: storedSet)
    }

    /// The batch split into the frames of the given gates (``SinkBatchSplit/first``) and everything else but the
    /// gates `dropped`.
    /// - Parameters:
    ///   - moved: Indices into ``gates``, ascending.
    ///   - dropped: Indices into ``gates`` left out of both batches.
    /// - Returns: The split.
    public func splitting(gates moved: [Int], dropping dropped: Set<Int> = []) -> SinkBatchSplit {
        var first = SinkBatch()
        for index in moved { first.appendRows(ofGate: index, of: self) }
        let gone = dropped.union(moved)
        return SinkBatchSplit(
            first: first,
            firstGates: moved,
            rest: removingRows(ofGates: gone),
            restGates: gates.indices.filter { !gone.contains($0) }
        )
    }

    /// Appends gate `index` of `batch` with its rows, the gate rebased onto this batch.
    private mutating func appendRows(ofGate index: Int, of batch: SinkBatch) {
        let gate = batch.gates[index]
        let next = index + 1 < batch.gates.count ? batch.gates[index + 1] : nil
        gates.append(FrameGate(rebasing: gate, onto: self))
        readings.append(contentsOf: batch.readings[gate.firstReading..<(next?.firstReading ?? batch.readings.count)])
        intervals.append(
            contentsOf: batch.intervals[gate.firstInterval..<(next?.firstInterval ?? batch.intervals.count)]
        )
        alarms.append(contentsOf: batch.alarms[gate.firstAlarm..<(next?.firstAlarm ?? batch.alarms.count)])
        frames.append(contentsOf: batch.frames[gate.firstFrame..<(next?.firstFrame ?? batch.frames.count)])
        commandResults.append(
            contentsOf: batch.commandResults[
                gate.firstCommandResult..<(next?.firstCommandResult ?? batch.commandResults.count)
            ]
        )
    }

    /// The batch without the rows of the given gates (frames found to be duplicates). Quarantine rows and rows
    /// before the first gate are kept; the kept gates are re-based onto the filtered rows. A gate owns the rows
    /// from its start indices up to the next gate's.
    /// - Parameter removed: Indices into ``gates``.
    /// - Returns: The filtered batch.
    public func removingRows(ofGates removed: Set<Int>) -> SinkBatch {
        guard !removed.isEmpty, let first = gates.first else { return self }
        var result = SinkBatch()
        result.quarantine = quarantine
        result.formatLayouts = formatLayouts
        result.readings.append(contentsOf: readings[..<first.firstReading])
        result.intervals.append(contentsOf: intervals[..<first.firstInterval])
        result.alarms.append(contentsOf: alarms[..<first.firstAlarm])
        result.frames.append(contentsOf: frames[..<first.firstFrame])
        result.commandResults.append(contentsOf: commandResults[..<first.firstCommandResult])
        for index in gates.indices where !removed.contains(index) {
            result.appendRows(ofGate: index, of: self)
        }
        return result
    }
}

/// A batch split in two by ``SinkBatch/splittingOffAlarms()``: `first` is stored ahead of `rest`.
public struct SinkBatchSplit: Sendable {
    /// The frames stored first (alarm frames).
    public var first: SinkBatch
    /// For each gate of ``first``, its index in the batch that was split.
    public var firstGates: [Int]
    /// Everything else: the other frames, quarantine rows and format layouts.
    public var rest: SinkBatch
    /// For each gate of ``rest``, its index in the batch that was split.
    public var restGates: [Int]
}
