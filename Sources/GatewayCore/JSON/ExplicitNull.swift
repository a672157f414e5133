/// An optional member that is encoded as JSON `null` when it has no value, rather than left out as synthesized
/// `Encodable` conformances do: the decode JSON and the HTTP responses promise these members in every object.
@propertyWrapper
public struct ExplicitNull<Value: Encodable>: Encodable {
    /// The value, or `nil` for `null`.
    public var wrappedValue: Value?

    /// Wraps a value.
    ///
    /// - Parameter wrappedValue: The value, or `nil` for `null`.
    public init(wrappedValue: Value?) {
        self.wrappedValue = wrappedValue
    }

    /// Writes the value, or `null`.
    ///
    /// - Parameter encoder: The encoder.
    /// - Throws: What encoding the value throws.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue {
            try container.encode(wrappedValue)
        } else {
            try container.encodeNil()
        }
    }
}

extension ExplicitNull: Sendable where Value: Sendable {}
extension ExplicitNull: Equatable where Value: Equatable {}
