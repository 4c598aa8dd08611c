/// Why a message could not be read or written. Offsets are from the start of the message.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The message ended before a field that must be there.
    case truncated(offset: Int)
    /// A compression pointer pointed at or after the name it belongs to (RFC 1035 §4.1.4 allows
    /// only pointers to a prior occurrence).
    case forwardPointer(offset: Int)
    /// More compression pointers in one name than any honest name needs.
    case tooManyPointers(offset: Int)
    /// A name longer than 255 octets in wire form.
    case nameTooLong(offset: Int)
    /// A label longer than 63 octets (text form) or a label of length 0 inside a name.
    case labelTooLong(offset: Int)
    case emptyLabel
    /// Label types 0b01 and 0b10 (RFC 6891 §5 deprecated extended labels) are not accepted.
    case badLabelType(offset: Int)
    /// The header's section counts promise more than the message can hold.
    case countsExceedMessage
    /// A record's RDLENGTH does not match what its type requires.
    case badRdata(type: UInt16, offset: Int)
    /// Bytes left over after the last section.
    case trailingData(offset: Int)
    /// More than one OPT record, or an OPT record with a non-root owner or outside additional.
    case badOPT(offset: Int)
    /// A message longer than 65 535 octets.
    case messageTooLarge(size: Int)
    /// A character string (TXT, CAA) longer than 255 octets.
    case stringTooLong
    /// A name in text form that cannot be a DNS name.
    case badNameText(String)

    public var description: String {
        switch self {
        case .truncated(let o): return "message truncated at offset \(o)"
        case .forwardPointer(let o): return "compression pointer at offset \(o) does not point backwards"
        case .tooManyPointers(let o): return "too many compression pointers in the name at offset \(o)"
        case .nameTooLong(let o): return "name at offset \(o) is longer than 255 octets"
        case .labelTooLong(let o): return "label at offset \(o) is longer than 63 octets"
        case .emptyLabel: return "empty label inside a name"
        case .badLabelType(let o): return "unsupported label type at offset \(o)"
        case .countsExceedMessage: return "section counts exceed the message length"
        case .badRdata(let t, let o): return "malformed RDATA for type \(RecordType(rawValue: t)) at offset \(o)"
        case .trailingData(let o): return "trailing data at offset \(o)"
        case .badOPT(let o): return "misplaced or duplicate OPT record at offset \(o)"
        case .messageTooLarge(let s): return "message of \(s) octets exceeds 65535"
        case .stringTooLong: return "character string longer than 255 octets"
        case .badNameText(let t): return "'\(t)' is not a valid DNS name"
        }
    }
}
