"""What every API input model shares: unknown fields are refused, text is stripped, no NaN."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

#: The upper bound of durations in seconds that inputs accept.
TEN_YEARS_S = 10 * 366 * 24 * 3600


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)
