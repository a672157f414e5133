import GatewayCore
import GatewayDomain
import Testing

/// The complaint lifecycle, the escalation rule and the return-call rule, with "now" given.
@Suite struct ComplaintLifecycleTests {
    private func advance(
        _ status: ComplaintStatus,
        _ step: ComplaintStep,
        text: String? = "t",
        category: ComplaintCategory = .other,
        outcome: ComplaintOutcome? = nil
    ) -> Result<ComplaintStatus, ComplaintLifecycle.Refusal> {
        Result { () throws(ComplaintLifecycle.Refusal) in
            try ComplaintLifecycle.advance(
                complaint: 7,
                from: status,
                by: step,
                text: text,
                category: category,
                outcome: outcome
            )
        }
    }

    @Test func everyStepFollowsExactlyItsStatusesAndNothingGoesBack() {
        let order: [ComplaintStatus] = [.received, .accepted, .proposed, .answered, .followUpDone, .closed]
        for status in ComplaintStatus.allCases {
            for step in ComplaintStep.allCases {
                let result = advance(status, step)
                if step.allowedFrom.contains(status) {
                    #expect(result == .success(step.status), "\(status) -> \(step)")
                } else {
                    #expect((try? result.get()) == nil, "\(status) -> \(step) is refused")
                }
                // Forward only: no step leads to a status earlier in the main line than where it may start.
                if let from = order.firstIndex(of: status), let to = order.firstIndex(of: step.status),
                    step.allowedFrom.contains(status)
                {
                    #expect(to > from)
                }
            }
        }
        #expect(ComplaintStep.followUpDone.allowedFrom == [.answered, .notAccepted])
        #expect(ComplaintStep.closed.allowedFrom == [.followUpDone])
        #expect(
            advance(.received, .answered)
                == .failure(.init(message: "complaint 7 is received; answered follows proposed"))
        )
    }

    @Test func aRefusalNeedsItsReasonAndABillingDisputesAnswerItsOutcome() {
        #expect(
            advance(.received, .notAccepted, text: nil)
                == .failure(.init(message: "not_accepted needs the reason given as its text"))
        )
        #expect(advance(.received, .notAccepted, text: "not our pipe") == .success(.notAccepted))
        #expect((try? advance(.proposed, .answered, category: .billingDispute).get()) == nil)
        #expect(advance(.proposed, .answered, category: .billingDispute, outcome: .corrected) == .success(.answered))
        #expect((try? advance(.proposed, .answered, category: .safety, outcome: .corrected).get()) == nil)
        #expect((try? advance(.received, .accepted, outcome: .billConfirmed).get()) == nil)
    }

    @Test func aLateAnswerEscalatesOnceAndOnlyWhileAwaited() {
        let due = Timestamp(secondsSinceEpoch: 1_772_208_000)
        let after = due.adding(seconds: 1)
        for status in ComplaintStatus.allCases {
            let expected = [.received, .accepted, .proposed].contains(status)
            #expect(
                ComplaintLifecycle.isEscalationDue(status: status, answerBy: due, isEscalated: false, now: after)
                    == expected,
                "\(status)"
            )
        }
        #expect(!ComplaintLifecycle.isEscalationDue(status: .received, answerBy: due, isEscalated: false, now: due))
        #expect(!ComplaintLifecycle.isEscalationDue(status: .received, answerBy: due, isEscalated: true, now: after))
    }

    @Test func returnCallsNeedTheirAttemptsAndAWaiverASupervisorAndAReason() throws {
        func refused(_ outcome: ReturnCallOutcome, _ attempts: Int, _ remarks: String?, _ supervisor: Bool) -> String? {
            do throws(ReturnCall.Refusal) {
                _ = try ReturnCall(outcome: outcome, attempts: attempts, remarks: remarks, isSupervisor: supervisor)
                return nil
            } catch {
                return error.message
            }
        }
        #expect(refused(.satisfied, 0, nil, false) == "an answered return call needs at least 1 attempt")
        #expect(refused(.notSatisfied, 1, "too slow", false) == nil)
        #expect(refused(.unreachable, 2, nil, false) == "unreachable needs at least 3 attempts; 2 recorded")
        #expect(refused(.unreachable, 3, nil, false) == nil)
        #expect(refused(.waived, 0, "abroad", false) == "only a supervisor may waive the return call")
        #expect(refused(.waived, 0, "   ", true) == "a waived return call needs the reason as remarks")
        #expect(refused(.waived, 1, "abroad", true) == "a waived return call has no attempts")
        #expect(refused(.satisfied, 101, nil, false) == "at most 100 attempts")
        #expect(
            try ReturnCall(outcome: .waived, attempts: 0, remarks: "  abroad", isSupervisor: true).remarks == "abroad"
        )
    }
}
