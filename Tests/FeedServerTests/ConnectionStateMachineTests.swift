@testable import FeedServer
import NIOCore
import Testing

/// The connection's state machine, step by step, without a network: which
/// bytes go out and in what order, when input is held, when it closes.
@Suite struct ConnectionStateMachineTests {
    typealias Machine = ConnectionStateMachine

    func bytes(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    func open(limit: Int = 1 << 20) -> Machine {
        var machine = Machine(outputLimit: limit)
        machine.admitted()
        return machine
    }

    @Test func inputRunsOnlyOnceAdmitted() {
        var machine = Machine(outputLimit: 1024)
        #expect(machine.received(bytes("PING\r\n")) == nil)
        machine.admitted()
        #expect(machine.received(bytes("PING\r\n")) == bytes("PING\r\n"))
        #expect(machine.runsCommands)
    }

    @Test func aRefusedClientGetsItsErrorThenCloses() {
        var machine = Machine(outputLimit: 1024)
        #expect(machine.refused() == [.flush, .closeAfterWrites])
        #expect(machine.phase == .closing && !machine.runsCommands)
    }

    @Test func aPartialRequestWaitsForTheRestOfIt() {
        var machine = open()
        var first = machine.received(bytes("*1\r\n$4\r\nPI"))!
        first.moveReaderIndex(forwardBy: 4)  // the decoder took what it could
        machine.keep(first)
        #expect(machine.received(bytes("NG\r\n")) == bytes("$4\r\nPING\r\n"))
    }

    @Test func repliesGoAtOnceAndFlushWhenAsked() {
        var machine = open()
        #expect(machine.replies(bytes("+PONG\r\n"), flush: false) == [.write(bytes("+PONG\r\n"))])
        #expect(machine.replies(bytes("+PONG\r\n"), flush: true) == [.write(bytes("+PONG\r\n")), .flush])
        #expect(machine.replies(ByteBuffer(), flush: true) == [.flush])
        #expect(machine.replies(ByteBuffer(), flush: false) == [])
    }

    @Test func aWaitingReplyHoldsWhatComesAfterItInOrder() {
        var machine = open()
        let (ticket, actions) = machine.wait(after: bytes(":1\r\n"), blocking: false)
        #expect(actions == [.write(bytes(":1\r\n"))])
        #expect(machine.runsCommands)  // commands behind a durability wait still run
        #expect(machine.replies(bytes(":2\r\n"), flush: true) == [])
        #expect(machine.heldBytes == 4)
        let (second, _) = machine.wait(after: bytes(":3\r\n"), blocking: false)
        // The second wait resolves first: nothing may go before the first.
        #expect(machine.resolved(second, with: bytes(":4\r\n"), blocking: false) == [])
        #expect(
            machine.resolved(ticket, with: bytes("+OK\r\n"), blocking: false) == [
                .write(bytes("+OK\r\n")), .write(bytes(":2\r\n")), .write(bytes(":3\r\n")), .write(bytes(":4\r\n")), .flush,
            ])
        #expect(!machine.hasWaitingReplies && machine.heldBytes == 0)
        #expect(machine.replies(bytes(":5\r\n"), flush: true) == [.write(bytes(":5\r\n")), .flush])
    }

    @Test func aBlockingWaitHoldsInputUntilItsReplyIsThere() {
        var machine = open()
        let (ticket, actions) = machine.wait(after: ByteBuffer(), blocking: true)
        #expect(actions == [.stopReading])
        #expect(!machine.runsCommands)
        // What arrives meanwhile is held, not run.
        #expect(machine.received(bytes("*1\r\n$4\r\nPING\r\n")) == nil)
        #expect(machine.received(bytes("*1\r\n$4\r\nPING\r\n")) == nil)
        #expect(
            machine.resolved(ticket, with: bytes(":1\r\n"), blocking: true) == [
                .write(bytes(":1\r\n")), .flush, .resumeReading, .run(bytes("*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n")),
            ])
        #expect(machine.runsCommands)
    }

    @Test func closingWaitsForTheRepliesInTheQueue() {
        var machine = open()
        let (ticket, _) = machine.wait(after: ByteBuffer(), blocking: false)
        #expect(machine.close(after: bytes("+OK\r\n")) == [])
        #expect(machine.phase == .closing && !machine.runsCommands)
        #expect(machine.received(bytes("PING\r\n")) == nil)
        #expect(
            machine.resolved(ticket, with: bytes(":1\r\n"), blocking: false) == [
                .write(bytes(":1\r\n")), .write(bytes("+OK\r\n")), .flush, .closeAfterWrites,
            ])
    }

    @Test func closingWithNothingWaitingClosesAfterTheWrites() {
        var machine = open()
        #expect(machine.close(after: bytes("+OK\r\n")) == [.write(bytes("+OK\r\n")), .flush, .closeAfterWrites])
        #expect(machine.close(after: ByteBuffer()) == [])  // once
    }

    @Test func queuedRepliesPastTheOutputLimitCutTheClientOff() {
        var machine = open(limit: 10)
        _ = machine.wait(after: ByteBuffer(), blocking: false)
        #expect(machine.replies(bytes("12345"), flush: false) == [])
        #expect(machine.replies(bytes("123456"), flush: false) == [.closeForOutputLimit])
        #expect(machine.phase == .closed && machine.heldBytes == 0)
    }

    @Test func aSocketThatStopsTakingBytesCutsTheClientOff() {
        var machine = open()
        #expect(machine.unwritable() == [.closeForOutputLimit])
        #expect(machine.unwritable() == [])
    }

    @Test func idleClientsCloseAtOnce() {
        var machine = open()
        #expect(machine.idle() == [.close])
        #expect(machine.received(bytes("PING\r\n")) == nil)
    }
}
