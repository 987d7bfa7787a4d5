"""The conversation's handlers, one module per feature.

- :mod:`.guards`: before all others, strangers are turned away and presses on buttons sealed
  for someone else refused;
- :mod:`.chat`: /start and /help, /status, /cancel, /stats, and unknown buttons;
- :mod:`.pictures`: a photo or image file taken; every other kind of message explained;
- :mod:`.pairs`: a pair's buttons (paint, swap, drop), its job's (stop), a result's (new
  pair, making-of);
- :mod:`.gallery`: /styles, browsing the paintings, taking one as the style;
- :mod:`.preferences`: /language and /settings, a user's preferences;
- :mod:`.errors`: the error handler;
- :mod:`.common`: what they share (the sender's session and language, answering, the pair).

Each handler does one small thing and returns; painting happens on the queue, followed by a
task (``Application.create_task``) that edits the progress message and sends the result.
Routing (which update reaches which handler) lives in ``bot.app``.
"""
