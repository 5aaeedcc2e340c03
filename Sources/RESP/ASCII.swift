/// Byte constants of the RESP wire format, named so the parser reads like the spec.
extension UInt8 {
    @usableFromInline static let asterisk: UInt8 = 0x2A  // *  array
    @usableFromInline static let dollar: UInt8 = 0x24  // $  bulk string
    @usableFromInline static let plus: UInt8 = 0x2B  // +  simple string
    @usableFromInline static let minus: UInt8 = 0x2D  // -  error, and a negative sign
    @usableFromInline static let colon: UInt8 = 0x3A  // :  integer
    @usableFromInline static let underscore: UInt8 = 0x5F  // _  RESP3 null
    @usableFromInline static let comma: UInt8 = 0x2C  // ,  RESP3 double
    @usableFromInline static let hash: UInt8 = 0x23  // #  RESP3 boolean
    @usableFromInline static let openParen: UInt8 = 0x28  // (  RESP3 big number
    @usableFromInline static let equals: UInt8 = 0x3D  // =  RESP3 verbatim string
    @usableFromInline static let percent: UInt8 = 0x25  // %  RESP3 map
    @usableFromInline static let tilde: UInt8 = 0x7E  // ~  RESP3 set
    @usableFromInline static let greaterThan: UInt8 = 0x3E  // >  RESP3 push
    @usableFromInline static let pipe: UInt8 = 0x7C  // |  RESP3 attribute
    @usableFromInline static let exclamation: UInt8 = 0x21  // !  RESP3 blob error
    @usableFromInline static let cr: UInt8 = 0x0D
    @usableFromInline static let lf: UInt8 = 0x0A
    @usableFromInline static let space: UInt8 = 0x20
    @usableFromInline static let tab: UInt8 = 0x09
    @usableFromInline static let verticalTab: UInt8 = 0x0B
    @usableFromInline static let formFeed: UInt8 = 0x0C
    @usableFromInline static let nul: UInt8 = 0x00
    @usableFromInline static let doubleQuote: UInt8 = 0x22
    @usableFromInline static let singleQuote: UInt8 = 0x27
    @usableFromInline static let backslash: UInt8 = 0x5C
    @usableFromInline static let zero: UInt8 = 0x30
    @usableFromInline static let nine: UInt8 = 0x39
    @usableFromInline static let lowercaseT: UInt8 = 0x74
    @usableFromInline static let lowercaseF: UInt8 = 0x66
    @usableFromInline static let lowercaseX: UInt8 = 0x78

    /// C's `isspace` in the "C" locale, which Redis uses to skip blanks between inline arguments.
    @inlinable var isCSpace: Bool {
        self == .space || (self >= .tab && self <= .cr)
    }

    /// The value of an ASCII hex digit, or nil.
    @inlinable var hexValue: UInt8? {
        switch self {
        case 0x30...0x39: return self &- 0x30
        case 0x41...0x46: return self &- 0x41 &+ 10
        case 0x61...0x66: return self &- 0x61 &+ 10
        default: return nil
        }
    }
}
