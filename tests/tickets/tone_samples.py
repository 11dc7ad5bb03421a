"""Real-sounding customer messages, labelled by hand: True = clearly angry/unhappy, False = not.

Written for these tests (not taken from any data set). Mixes polite questions, neutral status updates,
thanks, frustrated-but-polite notes and plainly angry messages, with the typos and run-ons people write.
"""

from __future__ import annotations

LABELLED: list[tuple[str, bool]] = [
    # clearly angry or unhappy
    ("This is the third time I'm writing about this. Still broken. Completely unacceptable.", True),
    ("Your product is useless. We lost a whole day of orders because the sync crashed again.", True),
    ("I am extremely frustrated. Nobody has answered in 4 days and our invoices are wrong.", True),
    ("Honestly this is the worst support experience I've had with any vendor.", True),
    ("We're seriously considering cancelling our contract, this outage has been a disaster for us.", True),
    ("Are you kidding me? The export deleted half our data and you closed my ticket??", True),
    ("I want a refund. The app is unusable on every browser we tried and I'm furious.", True),
    ("Terrible. The fix you shipped made things worse and now nobody can log in.", True),
    ("Really disappointed. We were promised a callback yesterday and got nothing.", True),
    ("This is ridiculous, I have been waiting two weeks for a simple password reset. Pathetic.", True),
    ("our team is angry and I have to explain to my boss why payroll failed. not ok", True),
    ("Stop sending me canned replies. The problem is NOT fixed and I'm sick of repeating myself.", True),
    # not angry: questions, neutral updates, thanks, mild concern
    ("Hi, could you tell me how to add a second admin to our account?", False),
    ("Thanks so much, that fixed it! Have a great weekend.", False),
    ("We're migrating to the new plan next month; is there anything we should prepare?", False),
    ("I attached the log file you asked for. Let me know if you need anything else.", False),
    ("Quick question: does the API support pagination on the orders endpoint?", False),
    ("The report looks right now, great work from your team.", False),
    ("Can we move our onboarding call to Thursday at 3pm?", False),
    ("Just checking in on ticket 4711, any update on the import?", False),
    ("Love the new dashboard, the team is really happy with it.", False),
    ("Please send the invoice for October to billing@example.com.", False),
    ("The export finished this morning, all good on our side.", False),
    ("We have a problem with the login page, some users get an error since this morning.", False),
    ("Small bug report: the date picker shows the wrong week in Firefox. No rush.", False),
    ("The CSV import failed with an error about column 7, can you take a look?", False),
    ("We noticed the sync was a bit slow yesterday but it seems fine today.", False),
]
