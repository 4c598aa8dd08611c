import Addressing
import CNFTables
#if canImport(Glibc)
import Glibc
#endif

/// One nfnetlink batch: messages appended between batch-begin and batch-end, each with its own
/// sequence number remembered with the object it programs, so that an error the kernel sends
/// back can be reported in the configuration's words.
final class Transaction {
    private let batch: OpaquePointer
    private var seq: UInt32
    private(set) var objects: [UInt32: String] = [:]
    let beginSeq: UInt32

    init() {
        batch = nftnl_batch_alloc(UInt32(getpagesize()), UInt32(dnsb_mnl_socket_buffer_size()))!
        seq = UInt32(truncatingIfNeeded: time(nil))
        beginSeq = seq
        nftnl_batch_begin(buffer, seq)
        seq &+= 1
        next()
    }

    deinit { nftnl_batch_free(batch) }

    private var buffer: UnsafeMutablePointer<CChar> { nftnl_batch_buffer(batch).assumingMemoryBound(to: CChar.self) }

    private func next() {
        if nftnl_batch_update(batch) < 0 { fatalError("nftnl_batch_update: out of memory") }
    }

    /// Appends one message; `build` writes its payload.
    func add(_ type: nf_tables_msg_types, flags: Int32, object: String, _ build: (UnsafeMutablePointer<nlmsghdr>) -> Void) {
        let nlh = nftnl_nlmsg_build_hdr(buffer, u16(type), u16(NFPROTO_INET),
                                        UInt16(flags | NLM_F_ACK), seq)!
        build(nlh)
        objects[seq] = object
        seq &+= 1
        next()
    }

    /// Closes the batch, sends it, and reads every acknowledgement. The kernel handles the whole
    /// batch before `sendmsg` returns, so every answer is already queued when reading starts.
    func commit() -> Result<Void, NetlinkError> {
        nftnl_batch_end(buffer, seq)
        next()
        guard let nl = mnl_socket_open(NETLINK_NETFILTER) else {
            return .failure(NetlinkError(object: "netlink socket", errno: errno))
        }
        defer { mnl_socket_close(nl) }
        guard mnl_socket_bind(nl, 0, pid_t(MNL_SOCKET_AUTOPID)) == 0 else {
            return .failure(NetlinkError(object: "netlink socket", errno: errno))
        }
        let fd = mnl_socket_get_fd(nl)
        var size: Int32 = 8 << 20
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size))
        if let failure = send(fd) { return .failure(failure) }
        return readAcknowledgements(nl)
    }

    private func send(_ fd: Int32) -> NetlinkError? {
        let count = Int(nftnl_batch_iovec_len(batch))
        var iov = [iovec](repeating: iovec(), count: count)
        nftnl_batch_iovec(batch, &iov, UInt32(count))
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        let sent = withUnsafeMutablePointer(to: &address) { a in
            iov.withUnsafeMutableBufferPointer { v in
                var msg = msghdr()
                msg.msg_name = UnsafeMutableRawPointer(a)
                msg.msg_namelen = socklen_t(MemoryLayout<sockaddr_nl>.size)
                msg.msg_iov = v.baseAddress
                msg.msg_iovlen = v.count
                return sendmsg(fd, &msg, 0)
            }
        }
        return sent < 0 ? NetlinkError(object: "netlink batch", errno: errno) : nil
    }

    private func readAcknowledgements(_ nl: OpaquePointer) -> Result<Void, NetlinkError> {
        var pending = Set(objects.keys)
        var firstError: NetlinkError?
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let fd = mnl_socket_get_fd(nl)
        while !pending.isEmpty {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN { break }
                return .failure(NetlinkError(object: "netlink acknowledgements", errno: errno))
            }
            buffer.withUnsafeMutableBytes { raw in
                var remaining = Int32(n)
                var nlh = raw.baseAddress!.assumingMemoryBound(to: nlmsghdr.self)
                while mnl_nlmsg_ok(nlh, remaining) {
                    if nlh.pointee.nlmsg_type == UInt16(NLMSG_ERROR) {
                        let seq = dnsb_nlmsg_error_seq(nlh)
                        let code = dnsb_nlmsg_error_code(nlh)
                        pending.remove(seq)
                        if code != 0, firstError == nil {
                            let object = seq == beginSeq ? "the transaction" : objects[seq] ?? "message \(seq)"
                            firstError = NetlinkError(object: object, errno: -code)
                        }
                    }
                    nlh = mnl_nlmsg_next(nlh, &remaining)
                }
            }
        }
        if let firstError { return .failure(firstError) }
        if !pending.isEmpty {
            return .failure(NetlinkError(object: "\(pending.count) messages the kernel did not acknowledge", errno: EPROTO))
        }
        return .success(())
    }
}
