public import ArgumentParser
public import GatewayDomain

// The closed sets of the complaint commands, as ArgumentValues.swift does for the others: a wrong value is answered
// naming every allowed one.

extension ComplaintStep: ExpressibleByArgument {}

extension ComplaintStatus: ExpressibleByArgument {}

extension ComplaintChannel: ExpressibleByArgument {}

extension ComplaintCategory: ExpressibleByArgument {}

extension ComplaintOutcome: ExpressibleByArgument {}

extension ReturnCallOutcome: ExpressibleByArgument {}
