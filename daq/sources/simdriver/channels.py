"""The simulated driver's AI channel calls: create_ai_voltage/current/bridge/thrmcpl_chan."""
from __future__ import annotations

from nidaqmx.constants import (
    BridgeConfiguration,
    BridgeUnits,
    ChannelType,
    CJCSource,
    CurrentShuntResistorLocation,
    CurrentUnits,
    ExcitationSource,
    TemperatureUnits,
    TerminalConfiguration,
    ThermocoupleType,
    UsageTypeAI,
    VoltageUnits,
)
from nidaqmx.error_codes import DAQmxErrors
from nidaqmx.errors import DaqFunctionNotSupportedError
from nidaqmx.utils import unflatten_channel_string

from hotfire.daq.sources.simdriver.hardware import _Chan
from hotfire.daq.sources.simdriver.ids import (
    AI_BRIDGE_CFG,
    AI_BRIDGE_NOM_OHM,
    AI_BRIDGE_UNITS,
    AI_CJC_CHAN,
    AI_CJC_SRC,
    AI_CJC_VAL,
    AI_CURRENT_UNITS,
    AI_EXCIT_SRC,
    AI_EXCIT_VAL,
    AI_MAX,
    AI_MEAS_TYPE,
    AI_MIN,
    AI_RAW_SAMP_SIZE,
    AI_RNG_HIGH,
    AI_RNG_LOW,
    AI_SHUNT_LOC,
    AI_SHUNT_OHM,
    AI_TC_TYPE,
    AI_TEMP_UNITS,
    AI_TERM_CFG,
    AI_VOLTAGE_UNITS,
    CHAN_PHYSICAL,
    CHAN_TYPE,
    RANGES,
    SHUNT_OHM,
    _error,
)


class _Channels:
    """Part of :class:`~hotfire.daq.sources.simdriver.SimulatedDriver` (which provides
    ``_lock``, ``_task``, ``_log``, ``_acquired`` and the rest of its state)."""

    # -- channels -------------------------------------------------------------
    def _add(self, task, physical_channel, name, meas, min_val, max_val, attrs, call, to_base=None,
             from_base=None, **logged):
        t = self._task(task)
        physicals = unflatten_channel_string(physical_channel)
        names = [name] if len(physicals) == 1 and name else (
            [f"{name}{i}" for i in range(len(physicals))] if name else physicals)
        # Ranges are tabulated in base units (V, A, mV/V, degC).
        to_base, from_base = to_base or (lambda v: v), from_base or (lambda v: v)
        lo, hi = to_base(min_val), to_base(max_val)
        if not min_val < max_val:
            raise _error(DAQmxErrors.MIN_NOT_LESS_THAN_MAX, f"Minimum must be less than maximum.\n\n"
                         f"Minimum: {min_val}\nMaximum: {max_val}\nChannel Name: {names[0]}", t.name)
        fits = [r for r in RANGES[meas] if -r <= lo and hi <= r]
        if not fits:
            raise _error(DAQmxErrors.INVALID_ATTRIBUTE_VALUE,
                         f"Requested value is not a supported value for this property.\n\nProperty: "
                         f"DAQmx_AI_Max\nRequested Value: {max_val}\nMinimum range: {min_val}, "
                         f"supported ranges: +-{', +-'.join(f'{r:g}' for r in RANGES[meas])} "
                         f"(base units)\nChannel Name: {names[0]}", t.name)
        rng = fits[0]
        created = []
        with self._lock:
            for phys, vname in zip(physicals, names):
                dev = phys.split("/")[0]
                module = self._modules.get(dev)
                if module is None:
                    raise _error(DAQmxErrors.INVALID_DEVICE_ID, f"Device identifier is invalid.\n\nDevice "
                                 f"Specified: {dev}\nSuggested Device(s): {', '.join(self._modules)}", t.name)
                rig_ch = self._wiring.get(phys)
                if rig_ch is None:
                    raise _error(DAQmxErrors.PHYSICAL_CHAN_DOES_NOT_EXIST,
                                 f"Physical channel specified does not exist on this device (no sensor is "
                                 f"wired to it on rig {self.rig.name}).\n\nPhysical Channel Name: {phys}", t.name)
                if meas not in module["kinds"] or rig_ch.kind != meas:
                    raise _error(DAQmxErrors.PHYS_CHAN_MEAS_TYPE,
                                 f"Measurement type not supported by the physical channel: {meas} requested, "
                                 f"the stand has a {rig_ch.kind} sensor ({rig_ch.name}) on it.\n\n"
                                 f"Physical Channel Name: {phys}", t.name)
                if any(c.name == vname for c in t.chans):
                    raise _error(DAQmxErrors.CHAN_ALREADY_IN_TASK, f"Channel is already in the task.\n\n"
                                 f"Channel Name: {vname}", t.name)
                a = dict(attrs)
                a.update({CHAN_TYPE: ChannelType.ANALOG_INPUT.value, CHAN_PHYSICAL: phys, AI_MIN: min_val,
                          AI_MAX: max_val, "_range": rng,
                          AI_RNG_HIGH: from_base(rng), AI_RNG_LOW: from_base(-rng),
                          AI_RAW_SAMP_SIZE: 16 if module["bits"] == 16 else 32})
                c = _Chan(vname, phys, meas, rig_ch, module["bits"], a)
                t.chans.append(c)
                self.channels[vname] = c
                created.append(vname)
            self._uncommit(t)
        self._local.last = ", ".join(created)
        self._log(call, task=t.name, physical_channel=physical_channel, name=name, min_val=min_val,
                  max_val=max_val, **logged)

    @staticmethod
    def _terminal(terminal_config: int) -> int:
        # DEFAULT resolves to what the simulated modules use by default.
        return TerminalConfiguration.DIFF.value if terminal_config == TerminalConfiguration.DEFAULT.value \
            else terminal_config

    def create_ai_voltage_chan(self, task, physical_channel, name_to_assign_to_channel, terminal_config,
                               min_val, max_val, units, custom_scale_name):
        if units != VoltageUnits.VOLTS.value or custom_scale_name:
            raise DaqFunctionNotSupportedError("the simulated driver has no custom scales")
        self._add(task, physical_channel, name_to_assign_to_channel, "voltage", min_val, max_val,
                  {AI_MEAS_TYPE: UsageTypeAI.VOLTAGE.value, AI_TERM_CFG: self._terminal(terminal_config),
                   AI_VOLTAGE_UNITS: units},
                  "create_ai_voltage_chan", terminal_config=TerminalConfiguration(terminal_config),
                  units=VoltageUnits(units))

    def create_ai_current_chan(self, task, physical_channel, name_to_assign_to_channel, terminal_config,
                               min_val, max_val, units, shunt_resistor_loc, ext_shunt_resistor_val,
                               custom_scale_name):
        if units != CurrentUnits.AMPS.value or custom_scale_name:
            raise DaqFunctionNotSupportedError("the simulated driver has no custom scales")
        ohm = ext_shunt_resistor_val if shunt_resistor_loc == CurrentShuntResistorLocation.EXTERNAL.value \
            else SHUNT_OHM
        self._add(task, physical_channel, name_to_assign_to_channel, "current", min_val, max_val,
                  {AI_MEAS_TYPE: UsageTypeAI.CURRENT.value, AI_TERM_CFG: self._terminal(terminal_config),
                   AI_CURRENT_UNITS: units, AI_SHUNT_LOC: shunt_resistor_loc, AI_SHUNT_OHM: float(ohm)},
                  "create_ai_current_chan", terminal_config=TerminalConfiguration(terminal_config),
                  units=CurrentUnits(units), shunt_resistor_loc=CurrentShuntResistorLocation(shunt_resistor_loc))

    def create_ai_bridge_chan(self, task, physical_channel, name_to_assign_to_channel, min_val, max_val, units,
                              bridge_config, voltage_excit_source, voltage_excit_val, nominal_bridge_resistance,
                              custom_scale_name):
        if units not in (BridgeUnits.MILLIVOLTS_PER_VOLT.value, BridgeUnits.VOLTS_PER_VOLT.value) \
                or custom_scale_name:
            raise DaqFunctionNotSupportedError("the simulated driver has no custom scales")
        per_volt = units == BridgeUnits.VOLTS_PER_VOLT.value
        # No excitation, no bridge output: the sensor then reads zero.
        excit = 0.0 if voltage_excit_source == ExcitationSource.NONE.value else float(voltage_excit_val)
        if excit <= 0:
            raise _error(DAQmxErrors.INVALID_ATTRIBUTE_VALUE, "A bridge needs a positive excitation voltage.\n\n"
                         f"Channel Name: {name_to_assign_to_channel}", self._task(task).name)
        self._add(task, physical_channel, name_to_assign_to_channel, "bridge", min_val, max_val,
                  {AI_MEAS_TYPE: UsageTypeAI.BRIDGE.value, AI_BRIDGE_UNITS: units, AI_BRIDGE_CFG: bridge_config,
                   AI_EXCIT_SRC: voltage_excit_source, AI_EXCIT_VAL: excit,
                   AI_BRIDGE_NOM_OHM: float(nominal_bridge_resistance)},
                  "create_ai_bridge_chan", to_base=(lambda v: v * 1000.0) if per_volt else None,
                  from_base=(lambda v: v / 1000.0) if per_volt else None,
                  units=BridgeUnits(units), bridge_config=BridgeConfiguration(bridge_config),
                  voltage_excit_source=ExcitationSource(voltage_excit_source), voltage_excit_val=voltage_excit_val,
                  nominal_bridge_resistance=nominal_bridge_resistance)

    def create_ai_thrmcpl_chan(self, task, physical_channel, name_to_assign_to_channel, min_val, max_val, units,
                               thermocouple_type, cjc_source, cjc_val, cjc_channel):
        if cjc_source == CJCSource.SCANNABLE_CHANNEL.value:
            raise DaqFunctionNotSupportedError("the simulated driver has no scannable CJC channels")
        to_c = {TemperatureUnits.DEG_C.value: lambda v: v, TemperatureUnits.K.value: lambda v: v - 273.15,
                TemperatureUnits.DEG_F.value: lambda v: (v - 32) / 1.8,
                TemperatureUnits.DEG_R.value: lambda v: v / 1.8 - 273.15}
        from_c = {TemperatureUnits.DEG_C.value: lambda v: v, TemperatureUnits.K.value: lambda v: v + 273.15,
                  TemperatureUnits.DEG_F.value: lambda v: v * 1.8 + 32,
                  TemperatureUnits.DEG_R.value: lambda v: (v + 273.15) * 1.8}
        if units not in to_c:
            raise DaqFunctionNotSupportedError("the simulated driver has no custom scales")
        self._add(task, physical_channel, name_to_assign_to_channel, "thermocouple", min_val, max_val,
                  {AI_MEAS_TYPE: UsageTypeAI.TEMPERATURE_THERMOCOUPLE.value, AI_TEMP_UNITS: units,
                   AI_TC_TYPE: thermocouple_type, AI_CJC_SRC: cjc_source, AI_CJC_VAL: float(cjc_val),
                   AI_CJC_CHAN: cjc_channel},
                  "create_ai_thrmcpl_chan", to_base=to_c[units], from_base=from_c[units],
                  units=TemperatureUnits(units),
                  thermocouple_type=ThermocoupleType(thermocouple_type), cjc_source=CJCSource(cjc_source),
                  cjc_val=cjc_val)
