import CNFTables
#if canImport(Glibc)
import Glibc
#endif

/// Netlink dump requests: one request, then every message the kernel answers with until
/// NLMSG_DONE, handed to `each` as libmnl's callback runner delivers them.
enum Dump {
    private final class Context {
        let each: (UnsafePointer<nlmsghdr>) -> Void
        init(_ each: @escaping (UnsafePointer<nlmsghdr>) -> Void) { self.each = each }
    }

    static func run(_ type: nf_tables_msg_types, what: String, build: (UnsafeMutablePointer<nlmsghdr>) -> Void,
                    each: (UnsafePointer<nlmsghdr>) -> Void) -> Result<Void, NetlinkError> {
        guard let nl = mnl_socket_open(NETLINK_NETFILTER) else {
            return .failure(NetlinkError(object: "netlink socket", errno: errno))
        }
        defer { mnl_socket_close(nl) }
        guard mnl_socket_bind(nl, 0, pid_t(MNL_SOCKET_AUTOPID)) == 0 else {
            return .failure(NetlinkError(object: "netlink socket", errno: errno))
        }
        let portid = mnl_socket_get_portid(nl)
        let seq = UInt32(truncatingIfNeeded: time(nil))
        var request = [CChar](repeating: 0, count: Int(dnsb_mnl_socket_buffer_size()))
        let sent: Int = request.withUnsafeMutableBufferPointer { buf in
            let nlh = nftnl_nlmsg_build_hdr(buf.baseAddress, u16(type), u16(NFPROTO_INET), u16(NLM_F_DUMP), seq)!
            build(nlh)
            return mnl_socket_sendto(nl, buf.baseAddress, Int(nlh.pointee.nlmsg_len))
        }
        guard sent >= 0 else { return .failure(NetlinkError(object: "reading \(what)", errno: errno)) }
        return withoutActuallyEscaping(each) { each in
            let context = Unmanaged.passRetained(Context(each))
            defer { context.release() }
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = buffer.withUnsafeMutableBytes { mnl_socket_recvfrom(nl, $0.baseAddress, $0.count) }
                guard n >= 0 else { return .failure(NetlinkError(object: "reading \(what)", errno: errno)) }
                let ret = buffer.withUnsafeBytes { raw in
                    mnl_cb_run(raw.baseAddress, n, seq, portid, { nlh, data in
                        guard let nlh, let data else { return MNL_CB_OK }
                        Unmanaged<Context>.fromOpaque(data).takeUnretainedValue().each(nlh)
                        return MNL_CB_OK
                    }, context.toOpaque())
                }
                if ret < 0 { return .failure(NetlinkError(object: "reading \(what)", errno: errno)) }
                if ret == MNL_CB_STOP { return .success(()) }
            }
        }
    }
}
