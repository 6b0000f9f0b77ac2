import zipfile

import pytest

from tests.helpers import new_job
from zordon.errors import InvalidRequest, NotFound
from zordon.jobs import outputs


@pytest.fixture
def job(tmp_path):
    made = new_job(tmp_path / "jobs")
    made.output_dir.mkdir(parents=True)
    (made.output_dir / "scene_0001.png").write_bytes(b"frame one")
    (made.output_dir / "scene_0002.png").write_bytes(b"frame two")
    (made.output_dir / "subfolder").mkdir()
    made.log_path.write_text("the job log, not an output")
    return made


def test_list_files_gives_output_files_sorted_without_folders(job):
    names = [p.name for p in outputs.list_files(job)]

    assert names == ["scene_0001.png", "scene_0002.png"]


def test_list_files_skips_symlinks_that_could_lead_outside(job, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("private")
    (job.output_dir / "link.txt").symlink_to(secret)

    assert "link.txt" not in [p.name for p in outputs.list_files(job)]
    with pytest.raises(NotFound):
        outputs.find_file(job, "link.txt")


def test_find_file_matches_names_in_any_case(job):
    assert outputs.find_file(job, "SCENE_0002.PNG").read_bytes() == b"frame two"


def test_find_file_without_a_name_is_a_bad_request(job):
    with pytest.raises(InvalidRequest):
        outputs.find_file(job, "")
    with pytest.raises(InvalidRequest):
        outputs.find_file(job, None)


@pytest.mark.parametrize(
    "name",
    [
        "../job.log",
        "..%2fjob.log",
        "%2e%2e/job.log",
        "..\\job.log",
        "output/../../job.log",
        "subfolder/../scene_0001.png",
    ],
)
def test_find_file_refuses_relative_paths_out_of_the_folder(job, name):
    with pytest.raises(NotFound):
        outputs.find_file(job, name)


def test_find_file_refuses_absolute_paths_even_to_its_own_files(job):
    with pytest.raises(NotFound):
        outputs.find_file(job, str(job.log_path))
    with pytest.raises(NotFound):
        outputs.find_file(job, str(job.output_dir / "scene_0001.png"))


def test_list_files_of_a_job_that_never_ran_is_empty(tmp_path):
    assert outputs.list_files(new_job(tmp_path)) == []


def test_zip_all_holds_every_output_file_by_name(job, tmp_path):
    archive = outputs.zip_all(job, tmp_path / "tmp")

    with zipfile.ZipFile(archive) as zipped:
        assert sorted(zipped.namelist()) == ["scene_0001.png", "scene_0002.png"]
        assert zipped.read("scene_0001.png") == b"frame one"


def test_zip_all_of_a_job_without_files_is_not_found(tmp_path):
    with pytest.raises(NotFound):
        outputs.zip_all(new_job(tmp_path), tmp_path / "tmp")
