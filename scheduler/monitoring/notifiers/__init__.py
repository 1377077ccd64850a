"""Notifiers: who hears about a failed, timed-out, lost or missed run, and how.

A notifier is a run hook (:mod:`scheduler.monitoring.hooks`) that sends the
events it wants from a background thread:

* :mod:`.base`: :class:`~.base.Notifier`, which runs notify, and how a job's
  ``notify:`` setting narrows that;
* :mod:`.delivery`: the bounded queue, the thread, retries with capped
  backoff, and the counts by outcome;
* :mod:`.webhook`: :class:`~.webhook.WebhookNotifier`, a JSON POST;
* :mod:`.payload`: what a notification says;
* :mod:`.options` and :mod:`.building`: notifiers from a settings dict.

Mail to the site's admins is Django's: :class:`scheduler.django.mail.MailAdminsNotifier`.
Without Django::

    from scheduler.monitoring.notifiers.webhook import WebhookNotifier

    WebhookNotifier("slack", url="https://hooks.slack.com/services/...", text=True).install()
"""
