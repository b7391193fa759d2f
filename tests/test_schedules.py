"""Constant-then-linear-decay learning rate (reference formula)."""

import pytest

from tfgan_translate.models.schedules import LinearDecaySchedule


def reference_factor(epoch, n_epochs, n_epochs_decay):
    # The reference's lambda_rule with epoch_count=1 and 0-based scheduler epochs.
    return 1.0 - max(0, epoch + 1 - n_epochs) / float(n_epochs_decay + 1)


@pytest.mark.parametrize("epoch", [0, 50, 99, 100, 101, 150, 199])
def test_per_epoch_matches_reference(epoch):
    s = LinearDecaySchedule(2e-4, steps_per_epoch=7, n_epochs=100, n_epochs_decay=100)
    for step in (epoch * 7, epoch * 7 + 6):  # constant within an epoch
        assert float(s(step)) == pytest.approx(2e-4 * reference_factor(epoch, 100, 100), rel=1e-5)


def test_per_step_is_monotone_and_reaches_near_zero():
    s = LinearDecaySchedule(1.0, steps_per_epoch=10, n_epochs=2, n_epochs_decay=3, per_step=True)
    rates = [float(s(step)) for step in range(0, 50)]
    assert rates[:10] == [1.0] * 10
    assert all(a >= b for a, b in zip(rates, rates[1:]))
    assert rates[-1] < 0.25


def test_config_round_trip_and_validation():
    s = LinearDecaySchedule(1e-3, 5, 3, 2, per_step=True)
    assert LinearDecaySchedule.from_config(s.get_config()).get_config() == s.get_config()
    with pytest.raises(ValueError, match="steps_per_epoch=0"):
        LinearDecaySchedule(1e-3, 0, 3, 2)
