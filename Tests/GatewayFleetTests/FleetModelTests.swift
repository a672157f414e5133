import GatewayCore
import Testing

@testable import GatewayFleet

@Suite struct FleetModelTests {
    @Test func householdsUseGasAtMealsAndHeatingButNotAtNightUnlessLeaking() {
        var random = SplitMix64(seed: 7)
        let household = HouseholdProfile(random: &random, isLeaking: false)
        var leakyRandom = SplitMix64(seed: 7)
        let leaking = HouseholdProfile(random: &leakyRandom, isLeaking: true)
        let midnightUTC8: Int64 = 1_795_363_200  // 2026-11-23 00:00 in UTC+8 (2026-11-22 16:00 UTC)
        let threeAM = midnightUTC8 + 3 * 3600
        let dinner = midnightUTC8 + 18 * 3600
        #expect(household.flowLitresPerHour(atUTCSecond: threeAM) == 0)
        #expect(household.flowLitresPerHour(atUTCSecond: dinner) > 100)
        #expect(leaking.flowLitresPerHour(atUTCSecond: threeAM) >= 8)
        // A day's use is plausible for a household in November: between 0.3 and 10 m³.
        let day = household.consumptionMillilitres(from: midnightUTC8, to: midnightUTC8 + 86_400)
        #expect((300_000...10_000_000).contains(day))
    }

    @Test func derivedKeysDifferPerMeterAndMatchTheRegisteredBytes() throws {
        let options = SimulatorOptions()
        let first = FleetKeys.keyBlock(for: 1, fleetSecret: options.fleetSecret)
        let second = FleetKeys.keyBlock(for: 2, fleetSecret: options.fleetSecret)
        #expect(first != second)
        #expect(
            AES128.encrypt(.zero, with: try #require(AES128Key(bytes: first.bytes)))
                == AES128.encrypt(.zero, with: FleetKeys.key(for: 1, fleetSecret: options.fleetSecret))
        )
    }
}
