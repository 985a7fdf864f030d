"""The phone line: the same dialogue by voice (Twilio Voice; issue 18).

`PhoneLine` takes a call's events (the call starts, the caller said or keyed something, a
transfer ended, the caller hung up) and answers each with a `CallReply`: sentences to say and
what the call does next. The api turns that into TwiML; the demo page shows it as text.
"""
