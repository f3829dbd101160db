"""Each rig channel becomes the right NI-DAQmx channel, read back through the
real nidaqmx property code: type, range, terminal configuration, units,
scaling, thermocouple type and CJC, bridge excitation; and each stream the
right timing, buffer and start trigger."""
import pytest
from nidaqmx.constants import (
    AcquisitionType,
    BridgeConfiguration,
    BridgeUnits,
    CJCSource,
    CurrentUnits,
    ExcitationSource,
    OverwriteMode,
    TemperatureUnits,
    ThermocoupleType,
    TriggerType,
    UsageTypeAI,
    VoltageUnits,
)

from hotfire.core.rig import load_rig, parse_rig
from hotfire.daq.sources import open_source
from hotfire.daq.sources.nidaq import channel_call
from hotfire.daq.sources.simdriver import SimulatedDriver
from hotfire.core.errors import HotfireError

MEAS = {"voltage": UsageTypeAI.VOLTAGE, "current": UsageTypeAI.CURRENT, "bridge": UsageTypeAI.BRIDGE,
        "thermocouple": UsageTypeAI.TEMPERATURE_THERMOCOUPLE}
RIGS = ("lox-ethanol-5kN", "lox-rp1-100kN")
# The rig file's terminal word -> the DAQmx C API value (NIDAQmx.h: DAQmx_Val_Cfg_Default,
# DAQmx_Val_Diff, DAQmx_Val_RSE, DAQmx_Val_NRSE, DAQmx_Val_PseudoDiff): written out here,
# not taken from the module under test.
TERMINAL_VALUES = {"default": -1, "diff": 10106, "rse": 10083, "nrse": 10078, "pseudodiff": 12529}


@pytest.fixture(scope="module", params=RIGS)
def opened(request):
    rig = load_rig(request.param)
    drv = SimulatedDriver(rig)
    source = open_source(rig, "nidaq-sim", driver=drv)
    yield rig, drv, source
    source.stop()


def created(drv, name):
    """The driver call that created virtual channel ``name``."""
    (call,) = [(m, kw) for m, kw in drv.calls if m.startswith("create_ai_") and kw["name"] == name]
    return call


def test_every_channel_maps_to_its_nidaqmx_channel(opened):
    rig, drv, source = opened
    adc = source.metadata()["adc"]
    for ch in rig.channels:
        aic = source.tasks[ch.stream].ai_channels[ch.name]
        method, kw = created(drv, ch.name)
        assert aic.physical_channel.name == ch.physical
        assert aic.ai_meas_type == MEAS[ch.kind], ch.name
        lo, hi = ch.range
        if ch.kind == "voltage":
            assert method == "create_ai_voltage_chan"
            assert aic.ai_voltage_units == VoltageUnits.VOLTS
            assert kw["terminal_config"].value == TERMINAL_VALUES[ch.terminal]
        elif ch.kind == "current":
            lo, hi = lo / 1000, hi / 1000  # mA in the rig, A in DAQmx
            assert method == "create_ai_current_chan"
            assert aic.ai_current_units == CurrentUnits.AMPS
            assert kw["terminal_config"].value == TERMINAL_VALUES[ch.terminal]
        elif ch.kind == "bridge":
            assert method == "create_ai_bridge_chan"
            assert aic.ai_bridge_units == BridgeUnits.MILLIVOLTS_PER_VOLT
            assert aic.ai_bridge_cfg == BridgeConfiguration.FULL_BRIDGE
            assert aic.ai_excit_src == ExcitationSource.INTERNAL
            assert aic.ai_excit_val == ch.excitation_V
        else:
            assert method == "create_ai_thrmcpl_chan"
            assert aic.ai_temp_units == TemperatureUnits.DEG_C
            assert aic.ai_thrmcpl_type == ThermocoupleType[ch.thermocouple_type]
            assert aic.ai_thrmcpl_cjc_src == CJCSource.BUILT_IN
        assert (aic.ai_min, aic.ai_max) == pytest.approx((lo, hi)), ch.name
        assert aic.ai_rng_low <= lo and hi <= aic.ai_rng_high, ch.name

        # raw -> signal scaling stored for the run file
        dtype = rig.streams[ch.stream].dtype
        if dtype in ("int16", "int32"):
            volts = aic.ai_dev_scaling_coeff
            factor = {"voltage": lambda: 1.0, "current": lambda: 1000 / aic.ai_current_shunt_resistance,
                      "bridge": lambda: 1000 / ch.excitation_V}[ch.kind]()
            assert adc[ch.name]["coefficients"] == pytest.approx([c * factor for c in volts]), ch.name
            assert aic.ai_raw_samp_size <= (16 if dtype == "int16" else 32)
        else:
            assert adc[ch.name]["coefficients"] == [0.0, 1000.0 if ch.kind == "current" else 1.0], ch.name


def test_every_stream_has_a_continuous_clock_a_2s_buffer_and_the_shared_start(opened):
    rig, drv, source = opened
    master, *others = list(rig.streams)
    term = source.tasks[master].triggers.start_trigger.term
    for name, st in rig.streams.items():
        task = source.tasks[name]
        assert task.channel_names == list(st.channels)
        assert task.timing.samp_clk_rate == st.rate_hz
        assert task.timing.samp_quant_samp_mode == AcquisitionType.CONTINUOUS
        assert task.in_stream.input_buf_size >= 2 * st.rate_hz
        assert task.in_stream.overwrite == OverwriteMode.OVERWRITE_UNREAD_SAMPLES
        trig = task.triggers.start_trigger
        if name == master:
            assert trig.trig_type == TriggerType.NONE
        else:
            assert trig.trig_type == TriggerType.DIGITAL_EDGE and trig.dig_edge_src == term


def test_external_start_trigger_and_reference_clock():
    rig = load_rig("lox-rp1-100kN")
    source = open_source(rig, "nidaq-sim", driver=SimulatedDriver(rig), trigger="/PXI1Slot7/PFI0",
                         ref_clock="PXI_Clk10")
    try:
        master = source.tasks["tc"]
        assert master.triggers.start_trigger.dig_edge_src == "/PXI1Slot7/PFI0"
        for task in source.tasks.values():
            assert task.timing.ref_clk_src == "PXI_Clk10" and task.timing.ref_clk_rate == 10e6
    finally:
        source.stop()


VARIANTS = """
[rig]
name = "variants"
[article]
serial = "X"
fuel = "C2H5OH(L)"
oxidizer = "O2(L)"
fuel_temperature_K = 293.15
oxidizer_temperature_K = 90.17
throat_diameter_mm = 20.0
expansion_ratio = 4.0
nominal_pc_bar = 20.0
nominal_of = 1.4
[streams.s]
rate_hz = 1000
[channels.A]
stream = "s"
physical = "Dev1/ai0"
kind = "voltage"
terminal = "rse"
range = [-1.0, 1.0]
calibration = { type = "linear", slope = 1.0 }
units = "V"
role = "other"
[channels.B]
stream = "s"
physical = "Dev1/ai1"
kind = "current"
terminal = "nrse"
range = [4.0, 20.0]
calibration = { type = "linear", slope = 1.0 }
units = "mA"
role = "other"
[channels.C]
stream = "s"
physical = "Dev1/ai2"
kind = "voltage"
terminal = "pseudodiff"
range = [0.0, 5.0]
calibration = { type = "linear", slope = 1.0 }
units = "V"
role = "other"
[channels.D]
stream = "s"
physical = "Dev2/ai0"
kind = "thermocouple"
thermocouple_type = "J"
cjc = "constant"
range = [0.0, 300.0]
units = "degC"
role = "other"
"""


def test_terminal_configurations_and_a_constant_cjc():
    rig = parse_rig(VARIANTS, "variants.toml")
    calls = {ch.name: channel_call(ch) for ch in rig.channels}
    assert calls["A"][1]["terminal_config"].value == 10083  # RSE
    assert calls["B"][1]["terminal_config"].value == 10078  # NRSE
    assert (calls["B"][1]["min_val"], calls["B"][1]["max_val"]) == (0.004, 0.020)
    assert calls["C"][1]["terminal_config"].value == 12529  # pseudo-differential
    assert calls["D"][1]["thermocouple_type"] == ThermocoupleType.J
    assert calls["D"][1]["cjc_source"] == CJCSource.CONSTANT_USER_VALUE


def test_a_terminal_on_a_bridge_is_refused_naming_the_channel():
    rig = load_rig("lox-ethanol-5kN")
    text = rig.text.replace('kind = "bridge"\n', 'kind = "bridge"\nterminal = "rse"\n')
    with pytest.raises(HotfireError, match=r"channel 'LC-THRUST' \(cDAQ1Mod2/ai0\): terminal = 'rse'"):
        channel_call(parse_rig(text, "bad.toml").channel("LC-THRUST"))


def test_a_channel_the_hardware_refuses_is_named():
    rig = load_rig("lox-ethanol-5kN")
    text = rig.text.replace('physical = "cDAQ1Mod3/ai1"', 'physical = "cDAQ1Mod9/ai1"')
    bad = parse_rig(text, "bad.toml")
    # the simulated stand has no cDAQ1Mod9: the real driver's -200220, named by channel
    with pytest.raises(HotfireError, match=r"stream 'main', channel 'P-OX-INJ' \(cDAQ1Mod9/ai1\).*-200220"):
        open_source(bad, "nidaq-sim", driver=SimulatedDriver(load_rig("lox-ethanol-5kN")))
