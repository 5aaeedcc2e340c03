/// Why the engine refused a request. Nothing changes when one is thrown.
public enum FeedError: Error, Sendable, Equatable {
    case emptyUserID
    case userIDTooLong(limit: Int)
    case emptyBody
    case bodyTooLarge(limit: Int)
    case followSelf
    case noSuchPost
    case unknownUser(String)

    /// The text after `ERR `.
    public var message: String {
        switch self {
        case .emptyUserID: return "user id must not be empty"
        case .userIDTooLong(let limit): return "user id is longer than \(limit) bytes"
        case .emptyBody: return "post body must not be empty"
        case .bodyTooLarge(let limit): return "post body is longer than max-body-bytes (\(limit))"
        case .followSelf: return "a user cannot follow themselves"
        case .noSuchPost: return "no such post"
        case .unknownUser(let name): return "no such user '\(name)'"
        }
    }
}
