import GatewayCore

/// A small, fast, seedable random generator (SplitMix64), so a simulated fleet is reproducible.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    /// - Parameter seed: The seed.
    public init(seed: UInt64) {
        state = seed
    }

    /// The next number of the sequence.
    /// - Returns: 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// How one simulated household uses gas over a day, in litres per hour.
///
/// Cooking peaks at breakfast, lunch and dinner; space heating in the morning and evening (the demo runs in
/// November); idle nights at zero. A leaking meter adds a constant small flow around the clock, which is the
/// signature the leak rules look for (no zero-flow interval in 24 h).
struct HouseholdProfile: Sendable {
    var cookingScale: Double
    var heatingScale: Double
    var leakLitresPerHour: Double
    /// The household's local time offset from UTC, in seconds (China: +8 h).
    var utcOffsetSeconds: Int64

    init(random: inout SplitMix64, isLeaking: Bool) {
        cookingScale = Double.random(in: 0.6...1.4, using: &random)
        heatingScale = Double.random(in: 0...1.2, using: &random)
        leakLitresPerHour = isLeaking ? Double.random(in: 8...30, using: &random) : 0
        utcOffsetSeconds = 8 * 3600
    }

    /// Flow at a moment, in litres per hour.
    func flowLitresPerHour(atUTCSecond second: Int64) -> Double {
        let local = second + utcOffsetSeconds
        let hour = Double((local % 86_400 + 86_400) % 86_400) / 3600
        var flow = leakLitresPerHour
        switch hour {
        case 6.5..<7.25: flow += 420 * cookingScale
        case 11.5..<12.25: flow += 520 * cookingScale
        case 17.5..<18.75: flow += 640 * cookingScale
        default: break
        }
        if (6..<9).contains(hour) || (17..<23).contains(hour) {
            flow += 750 * heatingScale
        }
        return flow
    }

    /// A day's use as the meter's daily report states it: 48 half-hour volumes in whole litres, each slot's fraction
    /// of a litre carried into the next (the way a litre register counts).
    ///
    /// Every report of a day takes its points from here, so two reports that share a midnight (yesterday's, and a
    /// history of the days before it) state the same frozen total there.
    /// - Parameter dayStart: The day's first second (local midnight).
    /// - Returns: The 48 points, in litres.
    func halfHourLitres(from dayStart: Int64) -> [UInt32] {
        var points: [UInt32] = []
        points.reserveCapacity(48)
        var carry: Int64 = 0
        for slot in 0..<48 {
            let from = dayStart + Int64(slot) * 1800
            let used = consumptionMillilitres(from: from, to: from + 1800) + carry
            carry = used % 1000
            points.append(UInt32(used / 1000))
        }
        return points
    }

    /// Consumption between two moments, in millilitres (integrated minute by minute).
    func consumptionMillilitres(from start: Int64, to end: Int64) -> Int64 {
        guard end > start else { return 0 }
        var total = 0.0
        var t = start
        while t < end {
            let step = min(60, end - t)
            total += flowLitresPerHour(atUTCSecond: t) * Double(step) / 3.6  // L/h × s → mL
            t += step
        }
        return Int64(total.rounded())
    }
}

/// One simulated meter: identity, key, register and frame counter.
struct SimulatedMeter: Sendable {
    let id: UInt64
    let key: AES128Key
    let profile: HouseholdProfile
    /// Register value in millilitres (exponent −3 ⇒ raw units are litres, so values are kept as multiples of 1 L).
    var registerMillilitres: Int64
    /// Fractional consumption not yet shown on the litre register.
    var carryMillilitres: Int64 = 0
    var frameCounter: UInt32
    var lastAdvance: Int64
    var valve: ValveState = .open
    var batteryMillivolts: UInt16
    /// Register at the start of yesterday (local midnight), in millilitres; anchors the daily report.
    var yesterdayStartMillilitres: Int64 = 0
    /// A scripted burst in yesterday's interval data: (half-hour slot, millilitres), counted in the register too.
    var burst: (slot: Int, millilitres: Int64)?
    /// A clock second that already holds a reading sent outside the meter's schedule (an implausible one): the
    /// meter's scheduled frames pass it, so no other reading of the meter carries that read time.
    var reservedSecond: Int64?

    /// Register integer digits (5 digits ⇒ rolls over at 100,000 m³) and exponent of the raw value (litres).
    static let registerDigits: UInt8 = 5
    static let exponent: Int8 = -3
    static let modulusMillilitres: Int64 = 100_000 * 1_000_000

    /// Advances the register to `second`, using the household profile.
    mutating func advance(to second: Int64) {
        guard second > lastAdvance else { return }
        let used = profile.consumptionMillilitres(from: lastAdvance, to: second) + carryMillilitres
        carryMillilitres = used % 1000
        registerMillilitres = (registerMillilitres + used - carryMillilitres) % Self.modulusMillilitres
        lastAdvance = second
    }

    /// The raw register value (litres).
    var registerRaw: UInt64 { UInt64(registerMillilitres / 1000) }

    /// The next frame counter.
    mutating func nextCounter() -> UInt32 {
        frameCounter &+= 1
        return frameCounter
    }
}

/// The per-meter AES key of a simulated fleet: AES-CMAC(fleet secret, meter id). The same derivation registers
/// the fleet in the database, so the simulator and the gateway agree without storing keys anywhere else.
enum FleetKeys {
    static func key(for meter: UInt64, fleetSecret: AES128Key) -> AES128Key {
        AES128Key(keyBlock(for: meter, fleetSecret: fleetSecret))
    }

    /// The key's 16 bytes as a block (for registering the meter).
    static func keyBlock(for meter: UInt64, fleetSecret: AES128Key) -> AES128.Block {
        withUnsafeBytes(of: meter.bigEndian) { AESCMAC.authenticate($0, with: fleetSecret) }
    }
}

extension SimulatedMeter {
    /// The start of the local day (00:00 at `offset` from UTC) at or before `second`.
    static func localMidnight(before second: Int64, offset: Int64) -> Int64 {
        let local = second + offset
        return local - ((local % 86_400) + 86_400) % 86_400 - offset
    }
}
