import Hummingbird

/// `{"recorded":true}`: the answer to a review decision or an inspection that was stored.
struct RecordedResponse: ResponseEncodable, Sendable {
    let recorded = true
}
