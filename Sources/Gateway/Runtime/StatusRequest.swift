import DNSWire
#if canImport(Glibc)
import Glibc
#endif

/// One request on the status socket: a line `status`, `flush`, or `flush NAME`.
enum StatusRequest {
    case status
    case flush(DNSName?)
    case invalid(String)

    init(readLineFrom fd: Int32) {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.count < 512, recv(fd, &byte, 1, 0) == 1, byte != 0x0A { line.append(byte) }
        let words = String(decoding: line, as: UTF8.self).split(separator: " ").map(String.init)
        switch words.first {
        case "status", nil: self = .status
        case "flush":
            guard words.count <= 2 else { self = .invalid("flush takes at most one name"); return }
            if words.count == 2 {
                guard let name = try? DNSName(words[1]) else { self = .invalid("'\(words[1])' is not a domain name"); return }
                self = .flush(name)
            } else {
                self = .flush(nil)
            }
        case let other?: self = .invalid("unknown request '\(other)'")
        }
    }
}

/// The answer to a flush.
struct FlushReport: Codable {
    var name: String?
    /// Entries dropped across workers; nil when a worker did not answer in time.
    var dropped: Int?
}
