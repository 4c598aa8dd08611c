import Addressing
import CMicroHTTPD
import DNSWire
import EventIO
import FoundationEssentials
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The control listener (`control.listen`, HTTP/1.1 through libmicrohttpd): Prometheus metrics
/// and the JSON control API, on libmicrohttpd's own thread — never a data-path thread — with a
/// bounded number of connections, bounded request sizes and an idle timeout.
final class ControlServer: @unchecked Sendable {
    static let maxConnections: UInt32 = 64
    /// Per connection: the request line, headers and body must fit.
    static let connectionMemory = 64 * 1024
    static let maxBody = 16 * 1024

    let view: GatewayView
    let tokens: Tokens?
    let audit: AuditLog
    private var daemon: OpaquePointer?

    struct StartError: Error, CustomStringConvertible {
        var description: String
    }

    /// `tokens`: the tokens file as `run` read it before anything listened; nil without one.
    static func start(_ config: ControlConfig, tokens: Tokens?, view: GatewayView) throws(StartError) -> ControlServer {
        let audit: AuditLog
        do { audit = try AuditLog(path: config.auditLog) } catch {
            throw StartError(description: "control audit_log: \(error)")
        }
        let server = ControlServer(view: view, tokens: tokens, audit: audit)
        var storage = sockaddr_storage()
        _ = config.listen.fill(&storage)
        let context = Unmanaged.passUnretained(server).toOpaque()
        let daemon = withUnsafePointer(to: &storage) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                dnsb_mhd_start(address, maxConnections, connectionMemory, 10, accessHandler, completedHandler, context)
            }
        }
        guard let daemon else {
            throw StartError(description: "control: cannot listen on \(config.listen): \(String(cString: strerror(errno)))")
        }
        server.daemon = daemon
        return server
    }

    private init(view: GatewayView, tokens: Tokens?, audit: AuditLog) {
        self.view = view; self.tokens = tokens; self.audit = audit
    }

    func stop() {
        if let daemon { MHD_stop_daemon(daemon) }
        daemon = nil
    }

    /// A request's body as it arrives, in pieces.
    final class Upload {
        var body: [UInt8] = []
        var tooLarge = false
    }

    struct Request {
        var method: String
        var path: String
        var body: [UInt8]
        var token: Tokens.Token?
        var authorization: String?
        var client: String
    }

    struct Response {
        var status: UInt32
        var contentType = "application/json"
        var body: String
        var headers: [(String, String)] = []

        static func json<T: Encodable>(_ status: UInt32, _ value: T) -> Response {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let text = (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            return Response(status: status, body: text + "\n")
        }

        static func error(_ status: UInt32, _ message: String) -> Response { json(status, ["error": message]) }
    }

    fileprivate func handle(_ connection: OpaquePointer, url: String, method: String, upload: Upload) -> Response {
        let authorization = MHD_lookup_connection_value(connection, .HEADER_KIND, "Authorization").map { String(cString: $0) }
        var client = "unknown"
        if let address = dnsb_mhd_client_address(connection) {
            var storage = sockaddr_storage()
            let length = address.pointee.sa_family == sa_family_t(AF_INET6) ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size
            withUnsafeMutableBytes(of: &storage) { _ = memcpy($0.baseAddress!, address, length) }
            if let peer = withUnsafePointer(to: &storage, { SocketAddress(storage: $0) }) { client = peer.description }
        }
        let request = Request(method: method, path: url, body: upload.body, token: tokens?.match(authorization: authorization),
                              authorization: authorization, client: client)
        if upload.tooLarge { return .error(413, "request body larger than \(Self.maxBody) octets") }
        return ControlRoutes.respond(to: request, server: self)
    }

    fileprivate static func queue(_ r: Response, on connection: OpaquePointer) -> MHD_Result {
        var bytes = Array(r.body.utf8)
        let response = bytes.withUnsafeMutableBytes {
            MHD_create_response_from_buffer($0.count, $0.baseAddress, .RESPMEM_MUST_COPY)
        }
        guard let response else { return .NO }
        defer { MHD_destroy_response(response) }
        _ = MHD_add_response_header(response, "Content-Type", r.contentType)
        for (name, value) in r.headers { _ = MHD_add_response_header(response, name, value) }
        return MHD_queue_response(connection, UInt32(r.status), response)
    }
}

/// libmicrohttpd calls this once when the headers are in, then once per piece of body, then
/// once more with nothing left: the request is answered on that last call.
private let accessHandler: MHD_AccessHandlerCallback = { cls, connection, url, method, _, data, size, state in
    guard let cls, let connection, let url, let method, let size, let state else { return .NO }
    let server = Unmanaged<ControlServer>.fromOpaque(cls).takeUnretainedValue()
    guard let current = state.pointee else {
        state.pointee = Unmanaged.passRetained(ControlServer.Upload()).toOpaque()
        return .YES
    }
    let upload = Unmanaged<ControlServer.Upload>.fromOpaque(current).takeUnretainedValue()
    if size.pointee > 0 {
        if let data, upload.body.count + size.pointee <= ControlServer.maxBody {
            upload.body += UnsafeRawBufferPointer(start: data, count: size.pointee)
        } else {
            upload.tooLarge = true
        }
        size.pointee = 0
        return .YES
    }
    let response = server.handle(connection, url: String(cString: url), method: String(cString: method), upload: upload)
    return ControlServer.queue(response, on: connection)
}

/// Frees what the access handler kept for the request, however it ended.
private let completedHandler: MHD_RequestCompletedCallback = { _, _, state, _ in
    guard let state, let current = state.pointee else { return }
    Unmanaged<ControlServer.Upload>.fromOpaque(current).release()
    state.pointee = nil
}
