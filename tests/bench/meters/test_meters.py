"""Power meters against directory trees shaped like sysfs: RAPL counters with wrap-around, hwmon
sensors such as an INA260, a user command, missing files and permission errors (injected: root can
read any file, so chmod cannot simulate them), and the power arithmetic on top."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from edgedeploy.bench.meters import MeterError, MeterUnavailable, open_meter
from edgedeploy.bench.meters.cmd import CmdMeter, parse_reading
from edgedeploy.bench.meters.hwmon import HwmonMeter
from edgedeploy.bench.meters.rapl import RaplMeter
from edgedeploy.bench.meters.recording import integrate
from edgedeploy.bench.power import PowerSession, power_report
from edgedeploy.errors import UsageError


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")


def rapl_tree(root: Path, zones: dict[str, tuple[str, int, int | None]]) -> Path:
    """zones: directory -> (name, energy_uj, max_energy_range_uj or None)."""
    for directory, (name, energy, max_range) in zones.items():
        zone = root / "class" / "powercap" / directory
        write(zone / "name", name)
        write(zone / "energy_uj", str(energy))
        if max_range is not None:
            write(zone / "max_energy_range_uj", str(max_range))
    return root


def set_energy(root: Path, directory: str, value: int) -> None:
    write(root / "class" / "powercap" / directory / "energy_uj", str(value))


def denying(*denied: str):
    def read_text(path: Path) -> str:
        if path.name in denied:
            raise PermissionError(13, "Permission denied", str(path))
        return path.read_text()

    return read_text


# --- RAPL --------------------------------------------------------------------------------------


def test_rapl_sums_package_zones_and_ignores_subzones(tmp_path):
    root = rapl_tree(
        tmp_path,
        {
            "intel-rapl:0": ("package-0", 1_000_000, 262_143_328_850),
            "intel-rapl:0:0": ("core", 500_000, 262_143_328_850),
            "intel-rapl:1": ("package-1", 2_000_000, 262_143_328_850),
        },
    )
    meter = open_meter("rapl", sys_root=root)
    assert (
        meter.kind == "energy"
        and "package-0" in meter.description
        and "package-1" in meter.description
    )
    assert meter.read() == 0.0
    set_energy(root, "intel-rapl:0", 3_000_000)
    set_energy(root, "intel-rapl:0:0", 9_000_000)  # a sub-zone is part of its package: never added
    set_energy(root, "intel-rapl:1", 2_500_000)
    assert meter.read() == pytest.approx(2.5)


def test_rapl_counter_wraps_at_max_energy_range(tmp_path):
    root = rapl_tree(tmp_path, {"intel-rapl:0": ("package-0", 999_000_000, 1_000_000_000)})
    meter = RaplMeter.open(sys_root=root)
    set_energy(root, "intel-rapl:0", 500_000)  # wrapped: 1 J up to the range, then 0.5 J after
    assert meter.read() == pytest.approx(1.5)
    set_energy(root, "intel-rapl:0", 2_500_000)
    assert meter.read() == pytest.approx(3.5)


def test_rapl_without_max_range_takes_a_decrease_as_a_reset(tmp_path):
    root = rapl_tree(tmp_path, {"intel-rapl:0": ("package-0", 5_000_000, None)})
    meter = RaplMeter.open(sys_root=root)
    set_energy(root, "intel-rapl:0", 1_000_000)
    assert meter.read() == pytest.approx(1.0)


def test_rapl_selects_a_zone_by_name(tmp_path):
    root = rapl_tree(
        tmp_path, {"intel-rapl:0": ("package-0", 0, 10**9), "intel-rapl:1": ("package-1", 0, 10**9)}
    )
    assert open_meter("rapl:package-1", sys_root=root).zones == [
        root / "class" / "powercap" / "intel-rapl:1"
    ]
    with pytest.raises(MeterUnavailable, match="package-7"):
        open_meter("rapl:package-7", sys_root=root)


def test_rapl_unavailable_reasons(tmp_path):
    with pytest.raises(MeterUnavailable, match="does not exist"):
        RaplMeter.open(sys_root=tmp_path / "no-sysfs")
    (tmp_path / "class" / "powercap" / "intel-rapl").mkdir(
        parents=True
    )  # control type only, no zones
    with pytest.raises(MeterUnavailable, match="no RAPL package zone"):
        RaplMeter.open(sys_root=tmp_path)
    root = rapl_tree(tmp_path, {"intel-rapl:0": ("package-0", 1, 10**9)})
    with pytest.raises(MeterUnavailable, match="permission denied.*root only"):
        RaplMeter.open(sys_root=root, read_text=denying("energy_uj"))
    (root / "class" / "powercap" / "intel-rapl:0" / "energy_uj").unlink()
    with pytest.raises(MeterUnavailable, match="cannot read"):
        RaplMeter.open(sys_root=root)


def test_rapl_file_lost_while_reading_is_a_meter_error(tmp_path):
    root = rapl_tree(tmp_path, {"intel-rapl:0": ("package-0", 1, 10**9)})
    meter = RaplMeter.open(sys_root=root)
    (root / "class" / "powercap" / "intel-rapl:0" / "energy_uj").unlink()
    with pytest.raises(MeterError, match="energy_uj"):
        meter.read()


# --- hwmon -------------------------------------------------------------------------------------


def hwmon_tree(root: Path) -> Path:
    chips = root / "class" / "hwmon"
    write(chips / "hwmon0" / "name", "k10temp")
    write(chips / "hwmon0" / "temp1_input", "45000")
    write(chips / "hwmon1" / "name", "ina260")
    write(chips / "hwmon1" / "in1_input", "5080")
    write(chips / "hwmon1" / "curr1_input", "420")
    write(chips / "hwmon1" / "power1_input", "2133600")  # microwatts
    return root


def test_hwmon_finds_the_ina260_power_sensor(tmp_path):
    meter = open_meter("hwmon", sys_root=hwmon_tree(tmp_path))
    assert isinstance(meter, HwmonMeter) and meter.kind == "power"
    assert "ina260" in meter.description and "power1_input" in meter.description
    assert meter.read() == pytest.approx(2.1336)


def test_hwmon_prefers_an_energy_counter_and_honours_selectors(tmp_path):
    root = hwmon_tree(tmp_path)
    write(root / "class" / "hwmon" / "hwmon2" / "name", "ina238")
    write(root / "class" / "hwmon" / "hwmon2" / "energy1_input", "7000000")  # microjoules
    meter = open_meter("hwmon", sys_root=root)
    assert meter.kind == "energy" and meter.sensor.chip == "ina238"
    write(root / "class" / "hwmon" / "hwmon2" / "energy1_input", "9500000")
    assert meter.read() == pytest.approx(2.5)
    assert open_meter("hwmon:ina260/power1", sys_root=root).sensor.file == "power1_input"
    assert open_meter("hwmon:hwmon1", sys_root=root).sensor.chip == "ina260"
    with pytest.raises(MeterUnavailable, match="ina219"):
        open_meter("hwmon:ina219", sys_root=root)


def test_hwmon_unavailable_reasons(tmp_path):
    root = tmp_path / "sys"
    write(root / "class" / "hwmon" / "hwmon0" / "name", "k10temp")
    write(root / "class" / "hwmon" / "hwmon0" / "temp1_input", "45000")
    with pytest.raises(MeterUnavailable, match="no hwmon power or energy sensor.*new_device"):
        open_meter("hwmon", sys_root=root)
    with pytest.raises(MeterUnavailable, match="permission denied"):
        open_meter(
            "hwmon", sys_root=hwmon_tree(tmp_path / "other"), read_text=denying("power1_input")
        )


# --- cmd ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "output, expected",
    [
        ("2.5 W\n", ("power", 2.5)),
        ("Power: 1234 mW", ("power", 1.234)),
        ("V=5.01V I=0.30A P=1.503W", ("power", 1.503)),
        ("energy=12.5J", ("energy", 12.5)),
        ("3.2 Wh", ("energy", 11520.0)),
        ("total 250 mWh", ("energy", 900.0)),
        ("1.2e3 mJ", ("energy", 1.2)),
        ("5", ("power", 5.0)),
        (" 3.25\n", ("power", 3.25)),  # a bare number is watts
    ],
)
def test_cmd_readings_need_a_unit(output, expected):
    kind, value = parse_reading(output)
    assert kind == expected[0] and value == pytest.approx(expected[1])


@pytest.mark.parametrize("output", ["", "5.0 V", "ok", "5 6", "reading 5"])
def test_cmd_output_without_a_power_or_energy_unit_is_refused(output):
    with pytest.raises(MeterError, match="no value with a unit"):
        parse_reading(output)


def python_command(code: str) -> str:
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}"


def test_cmd_meter_runs_the_command_for_each_reading(tmp_path):
    counter = tmp_path / "meter.txt"
    counter.write_text("100 mJ")
    meter = open_meter("cmd:" + python_command(f"print(open({str(counter)!r}).read())"))
    assert isinstance(meter, CmdMeter) and meter.kind == "energy"
    counter.write_text("350 mJ")
    assert meter.read() == pytest.approx(0.25)
    counter.write_text("2.0 W")
    with pytest.raises(MeterError, match="switched"):
        meter.read()


def test_cmd_meter_unavailable_reasons():
    with pytest.raises(MeterUnavailable, match="needs a command"):
        open_meter("cmd:")
    with pytest.raises(MeterUnavailable, match="not found"):
        open_meter("cmd:/nonexistent/usb-meter --read")
    with pytest.raises(MeterUnavailable, match="exited with 3: meter offline"):
        open_meter(
            "cmd:" + python_command("import sys; sys.stderr.write('meter offline'); sys.exit(3)")
        )


def test_unknown_meter_is_a_usage_error():
    with pytest.raises(UsageError, match="unknown power meter"):
        open_meter("joulescope")


# --- recording and arithmetic ------------------------------------------------------------------


def test_integrate_power_and_energy_readings():
    assert integrate("power", [(0.0, 1.0), (1.0, 3.0), (2.0, 3.0)]).joules == pytest.approx(5.0)
    window = integrate("energy", [(0.0, 5.0), (2.0, 9.0)])
    assert window.joules == 4.0 and window.watts == pytest.approx(2.0)
    with pytest.raises(MeterError, match="too short"):
        integrate("power", [(0.0, 1.0)])


class ClockedRapl:
    """A RAPL tree whose counter grows at ``watts`` with real time, read through the real meter."""

    def __init__(self, tmp_path: Path, watts: float):
        import time

        self.root = rapl_tree(tmp_path, {"intel-rapl:0": ("package-0", 0, 2**32)})
        self.watts, self.start, self.time = watts, time.perf_counter(), time.perf_counter

    def read_text(self, path: Path) -> str:
        if path.name == "energy_uj":  # wraps every 2**32 uJ (4.3 kJ) like a real 32-bit counter
            return str(int((self.time() - self.start) * self.watts * 1e6) % 2**32)
        return path.read_text()


def test_recorder_and_session_report_power_and_energy_per_inference(tmp_path):
    source = ClockedRapl(tmp_path, watts=7.5)
    session = PowerSession(
        "rapl", 0.25, opener=lambda spec: open_meter(spec, source.root, source.read_text)
    )
    session.measure_baseline()
    assert session.idle.watts == pytest.approx(7.5, rel=0.02) and session.idle.readings >= 3
    import time

    with session.recording() as recorder:
        time.sleep(0.3)
    report = session.report(recorder, inferences=30, at_fps=None)
    assert report.status == "measured" and report.active_w == pytest.approx(7.5, rel=0.02)
    assert report.energy_per_inference_mj == pytest.approx(
        report.active_w * report.seconds / 30 * 1e3
    )
    assert abs(report.energy_above_idle_per_inference_mj) < 0.05 * report.energy_per_inference_mj


def test_power_report_arithmetic():
    from edgedeploy.bench.meters import EnergyWindow

    report = power_report(
        EnergyWindow(seconds=2.0, joules=5.0, readings=10),
        idle_w=1.5,
        inferences=100,
        meter="m",
        at_fps=30.0,
    )
    assert report.active_w == 2.5 and report.energy_per_inference_mj == pytest.approx(50.0)
    assert (
        report.energy_above_idle_per_inference_mj == pytest.approx(20.0) and report.at_fps == 30.0
    )


def test_failing_meter_means_not_measured_never_a_number():
    class Unpluggable:
        name, description, kind, interval_s = "flaky", "flaky meter", "power", 0.01
        unplugged = False

        def read(self) -> float:
            if self.unplugged:
                raise MeterError("meter unplugged")
            return 2.0

    meter = Unpluggable()
    session = PowerSession("flaky", 0.05, opener=lambda spec: meter)
    session.measure_baseline()
    assert session.idle.watts == pytest.approx(2.0)
    with session.recording() as recorder:
        import time

        time.sleep(0.03)
        meter.unplugged = True
        time.sleep(0.03)
    report = session.report(recorder, inferences=10, at_fps=None)
    assert report.status == "not measured" and "unplugged" in report.reason
    assert report.active_w is None and report.energy_per_inference_mj is None


def test_no_meter_and_unusable_meter_say_why():
    assert "no power meter given" in PowerSession(None, 1.0).report(None, 5, None).reason
    unusable = PowerSession(
        "rapl", 1.0, opener=lambda spec: RaplMeter.open(sys_root=Path("/nonexistent"))
    )
    report = unusable.report(None, 5, None)
    assert (
        report.status == "not measured"
        and "does not exist" in report.reason
        and report.active_w is None
    )
    assert unusable.to_dict()["status"] == "not measured"
