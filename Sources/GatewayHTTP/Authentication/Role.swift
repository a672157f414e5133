/// What a credential may do over HTTP. Each route group names the one role it needs; ``grants(_:)`` says which roles
/// stand in for others.
///
/// | role | routes |
/// |---|---|
/// | `billing` | `GET /billing/v1/…`, `GET /meters/v1/verification-expired` |
/// | `dispatch` | `/dispatch/v1/…` except planned outages: tickets, steps, notes, hotline tickets, inspections, reports |
/// | `supervisor` | everything `dispatch` may, plus announcing and cancelling planned outages |
/// | `review` | `/review/v1/…`: the held reads and the decisions on them |
/// | `admin` | everything |
public enum Role: String, CaseIterable, Sendable, Hashable, Comparable {
    case billing
    case dispatch
    case supervisor
    case review
    case admin

    /// Whether holding this role lets a credential use routes that need `needed`: the same role, `admin` for any,
    /// and `supervisor` for `dispatch`.
    /// - Parameter needed: The role a route group needs.
    /// - Returns: `true` when this role is enough.
    public func grants(_ needed: Role) -> Bool {
        switch (self, needed) {
        case (.admin, _), (.supervisor, .dispatch): true
        default: self == needed
        }
    }

    public static func < (lhs: Role, rhs: Role) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }
}
