// libFuzzer entry point for the wire format, compiled together with Sources/DNSWire by
// `make fuzz` (see fuzz/run.sh). Properties checked on every input that parses:
//   1. serialise → parse gives the same message (unless the rewrite had to truncate);
//   2. serialising again gives the same bytes (the writer is deterministic);
//   3. truncating to 512 octets gives a parseable message of at most 512 octets.
// Any violation traps, which libFuzzer reports as a crash with the input saved.

@_cdecl("LLVMFuzzerTestOneInput")
public func wireRoundTrip(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    guard let message = try? Message(parsing: input) else { return 0 }
    guard let first = try? message.serialize() else { return 0 }  // too large once rewritten
    guard let again = try? Message(parsing: first) else {
        fatalError("our own output does not parse: \(first)")
    }
    let complete = !again.header.truncated || message.header.truncated
    if complete && again.answers.count == message.answers.count && again.authorities.count == message.authorities.count
        && again.additionals.count == message.additionals.count {
        precondition(again == message, "round trip changed the message")
        precondition((try? again.serialize()) == first, "serialising twice gave different bytes")
    }
    if let small = try? message.serialize(maxSize: 512) {
        guard let parsedSmall = try? Message(parsing: small) else { fatalError("truncated output does not parse") }
        let minimum = 12 + message.questions.reduce(0) { $0 + $1.name.wireLength + 4 } + (message.edns.map { _ in 11 } ?? 0)
        precondition(small.count <= 512 || minimum > 400, "truncation exceeded 512 octets: \(small.count)")
        precondition(parsedSmall.questions == message.questions, "truncation lost the question")
    }
    return 0
}
