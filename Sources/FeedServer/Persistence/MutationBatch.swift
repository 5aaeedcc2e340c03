import Timeline

/// A batch of journal entries turned into one transaction's worth of
/// multi-row statements, one per table and kind.
///
/// Statements run grouped by kind (users, posts, follows, likes, deletes),
/// not in entry order, so the batch keeps only each follow's and each like's
/// last state: follow-then-unfollow in one batch ends unfollowed, and
/// unfollow-then-follow ends followed, as in the engine. Every statement is
/// idempotent (ON CONFLICT DO NOTHING, deletes, "deleted_at IS NULL"), so
/// replaying a batch after a failure, or after a commit whose reply was lost,
/// changes nothing.
struct MutationBatch: Equatable, Sendable {
    var userIDs: [Int32] = []
    var userNames: [String] = []
    var postIDs: [Int64] = []
    var postAuthors: [Int32] = []
    var postBodies: [String] = []
    var postCreatedMilliseconds: [Int64] = []
    var followsAdded: [(follower: Int32, followee: Int32)] = []
    var followsRemoved: [(follower: Int32, followee: Int32)] = []
    var likesAdded: [(post: Int64, user: Int32)] = []
    var likesRemoved: [(post: Int64, user: Int32)] = []
    var deletedPosts: [Int64] = []

    init(_ mutations: some Sequence<FeedMutation>) {
        var follows: [Pair: Bool] = [:]
        var followOrder: [Pair] = []
        var likes: [LikeKey: Bool] = [:]
        var likeOrder: [LikeKey] = []
        for mutation in mutations {
            switch mutation {
            case .userCreated(let user, let name):
                self.userIDs.append(Int32(bitPattern: user))
                self.userNames.append(name)
            case .postCreated(let post, let author, let body):
                self.postIDs.append(Int64(bitPattern: post))
                self.postAuthors.append(Int32(bitPattern: author))
                self.postBodies.append(body)
                self.postCreatedMilliseconds.append(PostID.createdMilliseconds(post))
            case .postDeleted(let post, _):
                self.deletedPosts.append(Int64(bitPattern: post))
            case .followed(let follower, let followee), .unfollowed(let follower, let followee):
                let pair = Pair(follower: follower, followee: followee)
                if follows.updateValue(mutation.isFollow, forKey: pair) == nil { followOrder.append(pair) }
            case .liked(let user, let post), .unliked(let user, let post):
                let key = LikeKey(post: post, user: user)
                if likes.updateValue(mutation.isLike, forKey: key) == nil { likeOrder.append(key) }
            }
        }
        for pair in followOrder {
            let row = (Int32(bitPattern: pair.follower), Int32(bitPattern: pair.followee))
            if follows[pair]! { self.followsAdded.append(row) } else { self.followsRemoved.append(row) }
        }
        for key in likeOrder {
            let row = (Int64(bitPattern: key.post), Int32(bitPattern: key.user))
            if likes[key]! { self.likesAdded.append(row) } else { self.likesRemoved.append(row) }
        }
    }

    private struct Pair: Hashable {
        let follower: UInt32
        let followee: UInt32
    }

    private struct LikeKey: Hashable {
        let post: UInt64
        let user: UInt32
    }

    static func == (lhs: MutationBatch, rhs: MutationBatch) -> Bool {
        lhs.userIDs == rhs.userIDs && lhs.userNames == rhs.userNames && lhs.postIDs == rhs.postIDs
            && lhs.postAuthors == rhs.postAuthors && lhs.postBodies == rhs.postBodies
            && lhs.followsAdded.map { [$0.follower, $0.followee] } == rhs.followsAdded.map { [$0.follower, $0.followee] }
            && lhs.followsRemoved.map { [$0.follower, $0.followee] } == rhs.followsRemoved.map { [$0.follower, $0.followee] }
            && lhs.likesAdded.map { [$0.post, Int64($0.user)] } == rhs.likesAdded.map { [$0.post, Int64($0.user)] }
            && lhs.likesRemoved.map { [$0.post, Int64($0.user)] } == rhs.likesRemoved.map { [$0.post, Int64($0.user)] }
            && lhs.deletedPosts == rhs.deletedPosts
    }
}

extension FeedMutation {
    fileprivate var isFollow: Bool {
        if case .followed = self { return true }
        return false
    }

    fileprivate var isLike: Bool {
        if case .liked = self { return true }
        return false
    }
}
