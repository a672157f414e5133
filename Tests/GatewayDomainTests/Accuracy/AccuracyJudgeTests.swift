import GatewayCore
import GatewayDomain
import Testing

/// Meter-accuracy tests judged against the class MPE for the flow band (domain rules §1.1 and §1.3).
@Suite struct AccuracyJudgeTests {
    /// G4 class 1.5: Qmin 0.04, Qt 0.6, Qmax 6 m³/h.
    private func judge(
        _ error: Int64,
        at flow: Int64,
        kind: AccuracyTestKind,
        accuracyClass: AccuracyClass? = .class1_5
    ) -> AccuracyJudgement {
        AccuracyJudge.judge(
            errorBasisPoints: error,
            flowMillilitresPerHour: flow,
            accuracyClass: accuracyClass,
            qmin: 40_000,
            qt: 600_000,
            qmax: 6_000_000,
            kind: kind
        )
    }

    @Test func verificationUsesTheClassLimitPerBand() {
        #expect(
            judge(150, at: 600_000, kind: .verification)
                == AccuracyJudgement(verdict: .pass, band: "high", limitBasisPoints: 150)
        )
        #expect(judge(-151, at: 6_000_000, kind: .verification).verdict == .fail)
        #expect(
            judge(300, at: 40_000, kind: .verification)
                == AccuracyJudgement(verdict: .pass, band: "low", limitBasisPoints: 300)
        )
        #expect(judge(301, at: 599_999, kind: .verification).verdict == .fail)
        #expect(judge(101, at: 1_000_000, kind: .verification, accuracyClass: .class1_0).verdict == .fail)
        #expect(judge(50, at: 1_000_000, kind: .verification, accuracyClass: .class0_5).verdict == .pass)
    }

    @Test func fieldAndDisputeTestsUseTheInServiceLimit() {
        // Twice the verification MPE by default: ±3 % above Qt, ±6 % below it for class 1.5.
        #expect(
            judge(-300, at: 3_000_000, kind: .field)
                == AccuracyJudgement(verdict: .pass, band: "high", limitBasisPoints: 300)
        )
        #expect(judge(301, at: 3_000_000, kind: .dispute).verdict == .fail)
        #expect(judge(600, at: 100_000, kind: .field).verdict == .pass)
    }

    @Test func theVerificationLimitsComeFromTheTable() {
        var table = MPETable()
        table.class1_5High = 100  // a stricter jurisdiction
        let strict = AccuracyJudge.judge(
            errorBasisPoints: 120,
            flowMillilitresPerHour: 3_000_000,
            accuracyClass: .class1_5,
            qmin: 40_000,
            qt: 600_000,
            qmax: 6_000_000,
            kind: .verification,
            table: table
        )
        #expect(strict == AccuracyJudgement(verdict: .fail, band: "high", limitBasisPoints: 100))
    }

    @Test func flowsOutsideTheRangeOrUnknownLimitsAreNotJudged() {
        #expect(judge(0, at: 39_999, kind: .field).verdict == .outOfRange)
        #expect(judge(0, at: 6_000_001, kind: .field).verdict == .outOfRange)
        #expect(judge(0, at: 1_000_000, kind: .field, accuracyClass: nil).verdict == .unknown)
    }

    @Test(arguments: [("-0.6", Int64(-60)), ("+2.25", 225), ("3", 300), ("0.05", 5), ("-12.5", -1250)])
    func percentagesParseExactly(text: String, basisPoints: Int64) {
        #expect(AccuracyJudge.basisPoints(fromPercent: text) == basisPoints)
    }

    @Test(arguments: ["", "-", "1.234", "abc", "1e2", ".5", "12345"])
    func badPercentagesAreRefused(text: String) {
        #expect(AccuracyJudge.basisPoints(fromPercent: text) == nil)
    }
}
