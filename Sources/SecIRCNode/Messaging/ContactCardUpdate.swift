/// The rule for contact cards that arrive as updates (the contact's mailboxes changed): they may
/// arrive out of order, so only a card newer than the last one applied counts.
public enum ContactCardUpdate {
    /// Whether a card made at `created` (its Unix seconds) replaces the one applied at
    /// `lastApplied` (0 when none was): strictly newer only.
    public static func applies(created: UInt64, lastApplied: Int64) -> Bool {
        Int64(clamping: created) > lastApplied
    }
}
