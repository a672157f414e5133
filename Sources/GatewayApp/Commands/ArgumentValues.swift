public import ArgumentParser
public import GatewayCore
public import GatewayDomain
public import GatewayHTTP

// The closed sets the commands take as option or argument values. argument-parser reads them, so a wrong value is
// answered with its own error naming every allowed value ("Please provide one of 'P0', 'P1', 'P2' or 'P3'") and
// `--help` lists them.
//
// The conformances live here, not beside the types: the pure core and the sink never import ArgumentParser.

extension FrameProtocol: ExpressibleByArgument {}

extension TicketPriority: ExpressibleByArgument {}

extension TicketStep: ExpressibleByArgument {}

extension AlarmCondition: ExpressibleByArgument {}

extension AccuracyTestKind: ExpressibleByArgument {}

extension Role: ExpressibleByArgument {}

extension ReviewDecision: ExpressibleByArgument {
    public static var allValueStrings: [String] { [ReviewDecision.accept, .reject].map(\.rawValue) }
}

extension VolumeBasis: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(name: argument)
    }

    public var defaultValueDescription: String { name }

    public static var allValueStrings: [String] { allCases.map(\.name) }

    /// None: the names say it all (the raw-value default would list them as descriptions of "0", "1", "2").
    public static var allValueDescriptions: [String: String] { [:] }
}

extension ReadingKind: ExpressibleByArgument {
    public static var allValueStrings: [String] {
        [ReadingKind.periodic, .dailyFrozen, .alarmSnapshot, .historic].map { String($0.rawValue) }
    }
}

extension QuarantineReason: ExpressibleByArgument {
    public init?(argument: String) {
        let reason = QuarantineReason(rawValue: argument)
        guard Self.allReasons.contains(reason) else { return nil }
        self = reason
    }

    public static var allValueStrings: [String] { allReasons.map(\.rawValue) }
}

/// How `billing export` prints a page (CSV by default: the export is a feed for billing systems, not a list for
/// people, so it takes no table).
enum BillingExportFormat: String, CaseIterable, ExpressibleByArgument {
    case csv
    case json
}
