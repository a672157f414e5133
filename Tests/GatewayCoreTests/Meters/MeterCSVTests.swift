import GatewayCore
import Testing

/// The registry's CSV import format: every bad row reported by line and column, never half a row.
@Suite struct MeterCSVTests {
    private let header =
        "protocol,address,district,rural,size,qmin_m3h,qt_m3h,qmax_m3h,accuracy_class,register_digits,customer_class,"
        + "verified_on,verification_expires_on,continuous_appliance,methane_detector_linked,aes_key,role,collectors"

    @Test func aGoodRowFillsEveryField() throws {
        let parsed = MeterCSV.parse(
            header + ",min_protection\n"
                + "native,100000001,north,yes,g4,0.04,0.6,6,1.5,5,Residential,2020-03-01,2030-03-01,true,1,"
                + "2B7E151628AED2A6ABF7158809CF4F3C,district_supply,dtu-1;dtu-2,authenticated\n"
        )
        #expect(parsed.problems.isEmpty)
        #expect(parsed.columns == Set(MeterCSV.Column.allCases))
        let profile = try #require(parsed.rows.first?.profile)
        #expect(parsed.rows.first?.line == 2)
        #expect(profile.protocol == .native && profile.address == "100000001" && profile.district == "north")
        #expect(profile.isRural && profile.hasContinuousAppliance && profile.isMethaneDetectorLinked)
        #expect(profile.size == .g4 && profile.accuracyClass == .class1_5 && profile.customerClass == .residential)
        #expect(profile.qminMillilitresPerHour == 40_000)
        #expect(profile.qtMillilitresPerHour == 600_000)
        #expect(profile.qmaxMillilitresPerHour == 6_000_000)
        #expect(profile.registerDigits == 5 && profile.registerModulusMillilitres == 100_000_000_000)
        #expect(profile.verifiedOn == CivilDate(year: 2020, month: 3, day: 1))
        #expect(profile.verificationExpiresOn == CivilDate(year: 2030, month: 3, day: 1))
        #expect(profile.aesKey?.count == 16)
        #expect(profile.role == .districtSupply && profile.sizeMillicubicPerHour == 4000)
        #expect(profile.collectors == ["dtu-1", "dtu-2"])
        #expect(profile.minProtection == .authenticated && profile.effectiveMinProtection == .authenticated)
    }

    @Test func aMinimumTheMeterCanNeverReachIsRefusedWithTheReason() {
        let parsed = MeterCSV.parse(
            "protocol,address,aes_key,min_protection\n"
                + "cjt188,78330011223344,,authenticated\n"
                + "cjt188,78330011223345,,encrypted\n"
                + "mbus,GWF-87654321-60-03,000102030405060708090A0B0C0D0E0F,authenticated\n"
                + "wmbus,ELS-12345678-51-03,,encrypted\n"
                + "wmbus,ELS-12345679-51-03,000102030405060708090A0B0C0D0E0F,authenticated\n"
                + "mbus,GWF-87654322-60-03,000102030405060708090A0B0C0D0E0F,encrypted\n"
                + "cjt188,78330011223346,,plain\n"
                + "wmbus,ELS-12345670-51-03,000102030405060708090A0B0C0D0E0F,\n"
                + "wmbus,ELS-12345671-51-03,,\n"
                + "native,100000001,2B7E151628AED2A6ABF7158809CF4F3C,maximal\n"
        )
        #expect(parsed.problems.map(\.line) == [2, 3, 4, 5, 11])
        #expect(parsed.problems.allSatisfy { $0.column == "min_protection" })
        #expect(parsed.problems[0].message.contains("CJ/T 188 frames have no encryption or MAC"))
        #expect(parsed.problems[0].message.contains("at most plain"))
        #expect(parsed.problems[2].message.contains("wired M-Bus"))
        #expect(parsed.problems[3].message.contains("without an aes_key"))
        #expect(parsed.problems[4].message.contains("not plain, encrypted or authenticated"))
        let minimums = parsed.rows.map { $0.profile.effectiveMinProtection }
        // An empty cell is the default of the key: encrypted with one, plain without.
        #expect(minimums == [.authenticated, .encrypted, .plain, .encrypted, .plain])
        // Without an aes_key column the protocol alone decides (the stored key is not known to the parser).
        let withoutKeys = MeterCSV.parse("protocol,address,min_protection\nwmbus,ELS-12345678-51-03,authenticated\n")
        #expect(withoutKeys.problems.isEmpty && withoutKeys.rows.first?.profile.minProtection == .authenticated)
    }

    @Test func everyBadCellIsReportedByLineAndColumnAndTheRowIsLeftOut() {
        let parsed = MeterCSV.parse(
            header + "\r\n"
                + "cjt188,78330011223344,east,no,G2.5,0.025,0.4,4,1.5,5,residential,2019-01-10,2029-01-10,no,no,,,dtu-1\r\n"
                + "mbus,GWF-BAD,west,maybe,G5,0.1,0.05,abc,2.0,0,household,2021-02-30,2020-01-01,x,no,123,,a/b\r\n"
                + "\r\n"
                + "native,100000002,north,no,G4,0.04,0.6,6,1.5,5,residential,2020-03-01,2030-03-01,no,no,,,\r\n"
        )
        #expect(parsed.rowCount == 3)
        #expect(parsed.rows.map(\.line) == [2])
        #expect(
            parsed.problems.map(\.description) == [
                "line 3, column address: \"GWF-BAD\" is not an M-Bus registry address like ELS-12345678-51-03",
                "line 3, column rural: \"maybe\" is not true or false",
                "line 3, column size: \"G5\" is not a size (G1.6, G2.5, G4, G6, G10, G16, G25, G40, G65, G100)",
                "line 3, column qt_m3h: Qt must be greater than Qmin",
                "line 3, column qmax_m3h: \"abc\" is not a flow in m³/h (a positive number, at most 6 decimals)",
                "line 3, column accuracy_class: \"2.0\" is not 0.5, 1.0 or 1.5",
                "line 3, column register_digits: \"0\" is not a whole number of digits from 1 to 12",
                "line 3, column customer_class: \"household\" is not residential, commercial or industrial",
                "line 3, column verified_on: \"2021-02-30\" is not a date YYYY-MM-DD",
                "line 3, column continuous_appliance: \"x\" is not true or false",
                "line 3, column aes_key: not a 16-byte key written as 32 hexadecimal digits",
                "line 3, column collectors: \"a/b\" is not a collector id (letters, digits, '.', '_', '-' and ':' "
                    + "only) (separate collector ids with ';')",
                // Line 4 is blank; line 5 is a native meter without its key.
                "line 5, column aes_key: a native meter needs its 16-byte key (its frames carry a MAC)",
            ]
        )
    }

    @Test func aFileThatStillNamesMacKeyIsRefusedWithTheReason() {
        let parsed = MeterCSV.parse("protocol,address,aes_key,mac_key\nnative,1,2B7E151628AED2A6ABF7158809CF4F3C,\n")
        #expect(parsed.rows.isEmpty)
        #expect(parsed.problems.count == 1)
        let problem = parsed.problems.first?.description ?? ""
        #expect(problem.hasPrefix("line 1, column mac_key: no longer a column"))
        #expect(problem.contains("OMS mode 7 derives its MAC key from aes_key"))
    }

    @Test func aMistypedKeyIsNeverEchoed() {
        let secret = "2B7E151628AED2A6ABF7158809CF4F3"  // one digit short
        let parsed = MeterCSV.parse("protocol,address,aes_key\nwmbus,ELS-12345678-51-03,\(secret)\n")
        #expect(parsed.rows.isEmpty && parsed.problems.count == 1)
        #expect(!parsed.problems.map(\.description).joined().contains(secret))
    }

    @Test func quotedFieldsMayHoldCommasQuotesAndLineBreaks() throws {
        let parsed = MeterCSV.parse(
            "protocol,address,district\n"
                + "cjt188,78330011223344,\"east, \"\"old\"\" town\"\n"
                + "cjt188,78330011223345,\"two\nlines\"\n"
                + "cjt188,78330011223346,plain\n"
        )
        #expect(parsed.problems.isEmpty)
        #expect(parsed.rows.map(\.profile.district) == ["east, \"old\" town", "two\nlines", "plain"])
        #expect(parsed.rows.map(\.line) == [2, 3, 5])  // the quoted line break moves the next row to line 5
        #expect(parsed.columns == [.protocol, .address, .district])
    }

    @Test func headerProblemsStopTheWholeFile() {
        let unknown = MeterCSV.parse("protocol,address,colour\nnative,1,red\n")
        #expect(unknown.rows.isEmpty)
        #expect(unknown.problems.map(\.line) == [1])
        #expect(unknown.problems.first?.column == "colour")
        let missing = MeterCSV.parse("protocol,district\nnative,north\n")
        #expect(missing.rows.isEmpty)
        #expect(missing.problems.map(\.description) == ["line 1, column address: required column missing"])
        let twice = MeterCSV.parse("protocol,address,address\nnative,1,1\n")
        #expect(twice.rows.isEmpty && twice.problems.first?.message == "named twice")
        #expect(MeterCSV.parse("").problems.first?.line == 1)
    }

    @Test func aMeterListedTwiceIsReportedOnItsSecondLine() {
        let parsed = MeterCSV.parse("protocol,address\ncjt188,78330011223344\nCJT188,78330011223344\n")
        #expect(parsed.rows.map(\.line) == [2])
        #expect(
            parsed.problems.map(\.description) == [
                "line 3, column address: meter 78330011223344 already appears on line 2"
            ]
        )
    }

    @Test func aRowWithTheWrongNumberOfFieldsIsRejected() {
        let parsed = MeterCSV.parse("protocol,address,district\ncjt188,78330011223344\n")
        #expect(parsed.rows.isEmpty)
        #expect(parsed.problems.map(\.description) == ["line 2: has 2 fields, the header names 3"])
    }

    @Test(arguments: [
        ("0.016", Int64(16_000)), ("6", 6_000_000), ("2.5", 2_500_000), ("0.000001", 1), ("100000", 100_000_000_000),
    ])
    func flowsParseExactly(text: String, millilitres: Int64) {
        #expect(MeterCSV.millilitres(fromCubicMetres: text) == millilitres)
    }

    @Test(arguments: ["", ".5", "1.", "1.0000001", "-1", "1e3", "1,5", "abc"])
    func badNumbersAreRefused(text: String) {
        #expect(MeterCSV.millilitres(fromCubicMetres: text) == nil)
    }

    @Test func addressesMustFitTheirProtocol() {
        #expect(MeterCSV.addressProblem("100000001", .native) == nil)
        #expect(MeterCSV.addressProblem("0100", .native) != nil)
        #expect(MeterCSV.addressProblem("78330011223344", .cjt188) == nil)
        #expect(MeterCSV.addressProblem("7833001122334", .cjt188) != nil)
        #expect(MeterCSV.addressProblem("ELS-12345678-51-03", .wmbus) == nil)
        #expect(MeterCSV.addressProblem("12345678", .mbus) != nil)
    }

    @Test func collectorsAreSemicolonSeparatedCheckedAndDeduplicated() {
        let parsed = MeterCSV.parse(
            """
            protocol,address,collectors
            cjt188,78330011223344, dtu-1 ;gw:north.3;dtu-1
            cjt188,78330011223345,
            cjt188,78330011223346,dtu-1 dtu-2
            cjt188,78330011223347,dtu-1;;dtu-2
            """
        )
        #expect(parsed.columns.contains(.collectors))
        #expect(parsed.rows.map(\.profile.collectors) == [["dtu-1", "gw:north.3"], []])
        #expect(parsed.problems.map(\.line) == [4, 5])
        #expect(parsed.problems.allSatisfy { $0.column == "collectors" })
        #expect(parsed.problems.first?.message.contains("separate collector ids with ';'") == true)
    }
}
