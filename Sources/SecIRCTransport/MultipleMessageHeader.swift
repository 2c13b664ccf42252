internal import Glibc

/// The C layout of `struct mmsghdr` from `<sys/socket.h>`: `struct msghdr msg_hdr;` followed by
/// `unsigned int msg_len;`, padded to the alignment of `msghdr`. It is a GNU extension that
/// Swift's Glibc module does not import, so ``DatagramBatch`` lays it out in raw memory.
enum MultipleMessageHeader {
    static let alignment = MemoryLayout<msghdr>.alignment
    /// Offset of `msg_len` (56 on LP64).
    static let lengthOffset = MemoryLayout<msghdr>.size
    /// Distance between consecutive headers in an array (64 on LP64).
    static let stride = (lengthOffset + MemoryLayout<UInt32>.size + alignment - 1) / alignment * alignment
}
