import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird

/// Cursor pagination, the same on every list of the HTTP APIs.
///
/// A list request takes `limit` (how many items at most, `1…maximumLimit`, ``defaultLimit`` when absent) and `cursor`
/// (opaque; absent or empty for the first page). The answer holds the page's items and `next_cursor`, the cursor of
/// the next page or `null` after the last one; when there is a next page it also carries
/// `Link: <same path and query, with cursor=next_cursor>; rel="next"`. A malformed `limit` or `cursor` is refused
/// with `400` `bad_cursor_or_limit`.
///
/// A cursor is base64url (no padding) of a JSON array: the list's name, then the sort key of the page's last item
/// (a keyset cursor: the next page starts after that key, so rows added or removed meanwhile neither shift nor
/// repeat the others). Clients must not build or parse cursors; only send back what they received.
///
/// The billing feed (`GET /billing/v1/daily-reads`) keeps its own cursor (a feed position, ``BillingAPI``): its
/// `next_cursor` is never `null`, because the feed grows, and it adds `has_more`.
struct Page {
    /// The default page size of every list except the billing feed.
    static let defaultLimit = 500
    /// The largest page of every list except the billing feed.
    static let maximumLimit = 1000

    /// The page size asked for.
    var limit: Int
    /// The decoded sort key after which the page starts (without the list's name), or `nil` for the first page.
    var after: [String]?

    /// The `limit` and `cursor` of a list request.
    /// - Parameters:
    ///   - request: The request.
    ///   - list: The list's name, the first element of its cursors.
    ///   - keyCount: How many key elements its cursors hold; an array of other lengths is refused.
    ///   - defaultLimit: The page size when `limit` is absent.
    ///   - maximumLimit: The largest `limit` accepted.
    /// - Throws: ``APIError`` `400` `bad_cursor_or_limit`.
    init(
        _ request: Request,
        list: String,
        keyCount: ClosedRange<Int>,
        defaultLimit: Int = Page.defaultLimit,
        maximumLimit: Int = Page.maximumLimit
    ) throws(APIError) {
        let query = request.uri.queryParameters
        var limit = defaultLimit
        if let text = query["limit"] {
            guard let value = Int(String(text)), (1...maximumLimit).contains(value) else {
                throw .badRequest("bad_cursor_or_limit", message: "limit must be an integer from 1 to \(maximumLimit)")
            }
            limit = value
        }
        self.limit = limit
        if let text = query["cursor"], !text.isEmpty {
            guard let elements = Self.decode(String(text)), elements.first == list,
                keyCount.contains(elements.count - 1)
            else {
                throw .badRequest("bad_cursor_or_limit", message: "cursor is not a next_cursor of this list")
            }
            self.after = Array(elements.dropFirst())
        }
    }

    /// The id after which the page starts, for a list whose cursors hold one integer id (tickets, complaints); `nil`
    /// for the first page.
    /// - Throws: ``APIError`` `400` `bad_cursor_or_limit` when the key is not an integer.
    func afterID() throws(APIError) -> Int64? {
        guard let after else { return nil }
        guard let id = Int64(after[0]) else { throw .badRequest("bad_cursor_or_limit") }
        return id
    }

    /// The cursor that continues after `key` in the list `list`.
    /// - Parameters:
    ///   - list: The list's name.
    ///   - key: The sort key of the last item sent.
    /// - Returns: The opaque cursor.
    static func cursor(list: String, key: [String]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [list] + key)) ?? Data()
        return data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The elements of a cursor, or `nil` when it is not base64url of a JSON array of strings.
    static func decode(_ cursor: String) -> [String]? {
        guard cursor.utf8.count <= 2048 else { return nil }
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64),
            let array = try? JSONSerialization.jsonObject(with: data) as? [Any]
        else { return nil }
        let strings = array.compactMap { $0 as? String }
        return strings.count == array.count ? strings : nil
    }

    /// The first `limit` items of `rows` (the store was asked for `limit + 1`) and the cursor after them when more
    /// follow.
    /// - Parameters:
    ///   - rows: Up to `limit + 1` rows; one more than `limit` means a next page exists.
    ///   - list: The list's name.
    ///   - key: The sort key of a row, as cursor elements.
    /// - Returns: The rows to send and `next_cursor`.
    func slice<Row>(_ rows: [Row], list: String, key: (Row) -> [String]) -> (rows: [Row], nextCursor: String?) {
        let shown = Array(rows.prefix(limit))
        guard rows.count > limit, let last = shown.last else { return (shown, nil) }
        return (shown, Self.cursor(list: list, key: key(last)))
    }

    /// A JSON list response: `body` with status `200` and, when `nextCursor` is given, the `Link` header of the
    /// next page.
    /// - Parameters:
    ///   - body: The page.
    ///   - nextCursor: The cursor of the next page, or `nil` after the last.
    ///   - request: The request being answered (its path and query make the next page's link).
    /// - Returns: The response.
    /// - Throws: `EncodingError` when the body cannot be encoded.
    static func response(_ body: some Encodable, nextCursor: String?, for request: Request) throws -> Response {
        var response = try GatewayJSONEncoder().response(body, status: .ok)
        if let nextCursor, let name = HTTPField.Name("Link") {
            response.headers[name] = link(next: nextCursor, for: request)
        }
        return response
    }

    /// `<path?query&cursor=…>; rel="next"`: the request's own path and query with `cursor` replaced.
    static func link(next cursor: String, for request: Request) -> String {
        var items = request.uri.queryParameters.filter { $0.key != "cursor" }
            .map { (String($0.key), String($0.value)) }
        items.append(("cursor", cursor))
        let query = items.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
        return "<\(request.uri.path)?\(query)>; rel=\"next\""
    }

    private static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    )

    /// Percent-encodes everything but RFC 3986's unreserved characters.
    private static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }
}
