import Addressing
import EventIO
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The command-line side of the control API: one `GET` over HTTP/1.1 with `Connection: close`,
/// read to the end. Only ever talks to dnsbridge's own listener, which answers every call with
/// a Content-Length body, so nothing more of HTTP is needed here.
enum ControlClient {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func get(_ path: String, from address: SocketAddress, token: String?) -> Result<(status: Int, body: [UInt8]), Failure> {
        var storage = sockaddr_storage()
        let length = address.fill(&storage)
        let fd = socket(Int32(storage.ss_family), Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(Failure(description: String(cString: strerror(errno)))) }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 15, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
        }
        guard connected == 0 else { return .failure(Failure(description: String(cString: strerror(errno)))) }
        var request = "GET \(path) HTTP/1.1\r\nHost: \(address)\r\nConnection: close\r\nAccept: application/json\r\n"
        if let token { request += "Authorization: Bearer \(token)\r\n" }
        request += "\r\n"
        let bytes = Array(request.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return .failure(Failure(description: String(cString: strerror(errno)))) }
            sent += n
        }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 { return .failure(Failure(description: String(cString: strerror(errno)))) }
            if n == 0 { break }
            response += chunk[0..<n]
        }
        // Status line, headers, a blank line, the body.
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = (0..<max(0, response.count - 3)).first(where: { Array(response[$0..<$0 + 4]) == separator }) else {
            return .failure(Failure(description: "the answer is not HTTP"))
        }
        let head = String(decoding: response[..<end], as: UTF8.self)
        let words = head.split(separator: " ", maxSplits: 2)
        guard words.count >= 2, words[0].hasPrefix("HTTP/1."), let status = Int(words[1]) else {
            return .failure(Failure(description: "the answer is not HTTP"))
        }
        return .success((status: status, body: Array(response[(end + 4)...])))
    }

    /// The token for `--token-file PATH` (its first word), else `$DNSBRIDGE_TOKEN`.
    static func token(file: String?) -> Result<String?, Failure> {
        if let file {
            do {
                let text = try readFile(file)
                guard let word = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).first else {
                    return .failure(Failure(description: "\(file) holds no token"))
                }
                return .success(String(word))
            } catch {
                return .failure(Failure(description: error.description))
            }
        }
        return .success(getenv("DNSBRIDGE_TOKEN").map { String(cString: $0) })
    }
}
