public import GatewayDomain

extension DispatchStore {
    /// Records a ticket's return call (回访), or a supervisor's waiver of it, and moves the ticket to
    /// `follow_up_done`, one transaction with its event; only then may it close. Migration v24's trigger refuses
    /// `follow_up_done` without the call in the database too.
    /// - Parameters:
    ///   - ticketID: A resolved ticket.
    ///   - call: The call, checked by ``ReturnCall`` (a waiver only by a supervisor, with the reason).
    ///   - actor: Who called or waived.
    /// - Returns: The `follow_up_done` event, as notified.
    /// - Throws: ``PostgresError`` `.invalidArgument` when the ticket does not exist or is not resolved.
    public func recordReturnCall(
        _ ticketID: Int64,
        _ call: ReturnCall,
        actor: String
    ) async throws
        -> TicketEventMessage
    {
        guard !actor.isEmpty, !actor.utf8.contains(0), !(call.remarks?.utf8.contains(0) ?? false) else {
            throw PostgresError(code: .invalidArgument, message: "a return call needs an actor")
        }
        let now = clock()
        return try await database.withTransaction { connection in
            _ = try connection.rows(DispatchSQL.lockTicket, [ticketID])
            guard let current = try connection.rows(DispatchSQL.ticketStatus, [ticketID]).first else {
                throw PostgresError(code: .invalidArgument, message: "no ticket \(ticketID)")
            }
            let status = try current.decode(0, as: TicketStatus.self)
            let next: TicketStatus
            do throws(TicketLifecycle.Refusal) {
                next = try TicketLifecycle.advance(ticket: ticketID, from: status, by: .followUpDone)
            } catch {
                throw PostgresError(code: .invalidArgument, message: error.message)
            }
            _ = try connection.rows(
                ComplaintSQL.insertReturnCall,
                [ticketID, nil, call.outcome, call.attempts, call.remarks, actor, now]
            )
            guard
                let event = try connection.query(
                    DispatchSQL.advance(.followUpDone),
                    [ticketID, actor, ReturnCallSQL.detail(call), next, now],
                    as: DispatchEvent.self
                ).first,
                let message = try DispatchOutbox.notify(eventIDs: [event.id], on: connection).first
            else { throw PostgresError(code: .unexpectedResult, message: "ticket \(ticketID) was not moved") }
            return message
        }
    }

    /// The return call recorded on a ticket, if any.
    /// - Parameter ticketID: The ticket.
    /// - Returns: The call, or `nil`.
    public func returnCall(ofTicket ticketID: Int64) async throws -> ReturnCallRecord? {
        try await database.withConnection { connection in
            try connection.query(ReturnCallSQL.ofTicket, [ticketID], as: ReturnCallRecord.self).first
        }
    }
}
