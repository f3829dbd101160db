"""Driver constants of the simulated NI-DAQmx driver: attribute ids (as in
nidaqmx's generated property code), the simulated modules' input ranges, and
errors with the driver's real codes."""
from __future__ import annotations

from nidaqmx.error_codes import DAQmxErrors
from nidaqmx.errors import DaqError, DaqReadError

# -- attribute ids (as in nidaqmx's generated property code) -----------------
TASK_NAME, TASK_CHANNELS, TASK_NUM_CHANS, TASK_DEVICES, TASK_NUM_DEVICES = 0x1276, 0x1273, 0x2181, 0x230E, 0x29BA
READ_AVAIL, READ_TOTAL, READ_POS, READ_RELATIVE_TO, READ_OFFSET = 0x1223, 0x192A, 0x1221, 0x190A, 0x190B
READ_OVERWRITE, READ_NUM_CHANS, READ_DEFAULT_N = 0x1211, 0x217B, 0x31E8
BUF_INPUT_SIZE, BUF_ONBOARD_SIZE = 0x186C, 0x230A
SAMP_CLK_RATE, SAMP_MODE, SAMP_PER_CHAN, SAMP_CLK_EDGE, SAMP_CLK_SRC = 0x1344, 0x1300, 0x1310, 0x1301, 0x1852
REF_CLK_SRC, REF_CLK_RATE = 0x1316, 0x1315
START_TRIG_TERM, START_TRIG_TYPE, START_TRIG_SRC, START_TRIG_EDGE = 0x2F1E, 0x1393, 0x1407, 0x1404
CHAN_TYPE, CHAN_PHYSICAL = 0x187F, 0x18F5
AI_MEAS_TYPE, AI_MAX, AI_MIN, AI_RNG_HIGH, AI_RNG_LOW = 0x695, 0x17DD, 0x17DE, 0x1815, 0x1816
AI_TERM_CFG, AI_VOLTAGE_UNITS, AI_CURRENT_UNITS = 0x1097, 0x1094, 0x701
AI_BRIDGE_UNITS, AI_TEMP_UNITS = 0x2F92, 0x1033
AI_SHUNT_LOC, AI_SHUNT_OHM = 0x17F2, 0x17F3
AI_BRIDGE_CFG, AI_EXCIT_SRC, AI_EXCIT_VAL, AI_BRIDGE_NOM_OHM = 0x87, 0x17F4, 0x17F5, 0x17EC
AI_TC_TYPE, AI_CJC_SRC, AI_CJC_VAL, AI_CJC_CHAN = 0x1050, 0x1035, 0x1036, 0x1034
AI_DEV_SCALING, AI_RAW_SAMP_SIZE, AI_RESOLUTION = 0x1930, 0x22DA, 0x1765

#: Input ranges of the simulated modules, in the channel's base units
#: (V, A, mV/V, degC); the driver picks the smallest that holds [min, max].
RANGES = {
    "voltage": (0.2, 1.0, 5.0, 10.0),
    "current": (0.025,),
    "bridge": (7.8125, 25.0),
    "thermocouple": (1820.0,),
}
#: The simulated current modules' internal shunt, ohms.
SHUNT_OHM = 100.0
#: Terminal block temperature the built-in CJC sensor measures, degC.
TERMINAL_DEGC = 25.0

FAULTS = ("overflow", "timeout", "removal", "exception")


def _error(code: DAQmxErrors, message: str, task: str = "", read: int | None = None) -> DaqError:
    """A DaqError (DaqReadError when ``read`` is given) with the driver's real code."""
    if task:
        message = f"{message}\n\nTask Name: {task}"
    if read is not None:
        return DaqReadError(message, code.value, read)
    return DaqError(message, code.value)
