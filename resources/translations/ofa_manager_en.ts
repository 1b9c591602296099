<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="en">
<context>
    <name>AddCatalogDialog</name>
    <message numerus="yes">
        <source>Imported %n checkpoint(s)</source>
        <translation>
            <numerusform>Imported %n checkpoint</numerusform>
            <numerusform>Imported %n checkpoints</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source> in %n group(s)</source>
        <translation>
            <numerusform> in %n group</numerusform>
            <numerusform> in %n groups</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Left out %n link(s) that are not checkpoint files:</source>
        <translation>
            <numerusform>Left out %n link that is not a checkpoint file:</numerusform>
            <numerusform>Left out %n links that are not checkpoint files:</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>CheckpointTreeModel</name>
    <message numerus="yes">
        <source>{size} + %n unknown</source>
        <translation>
            <numerusform>{size} + %n unknown</numerusform>
            <numerusform>{size} + %n unknown</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Commands</name>
    <message numerus="yes">
        <source>Checking %n link(s)…</source>
        <translation>
            <numerusform>Checking %n link…</numerusform>
            <numerusform>Checking %n links…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>All %n link(s) answer</source>
        <translation>
            <numerusform>%n link answers</numerusform>
            <numerusform>All %n links answer</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>{failed} of %n link(s) failed — {details}</source>
        <translation>
            <numerusform>{failed} of %n link failed — {details}</numerusform>
            <numerusform>{failed} of %n links failed — {details}</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Moved %n file(s) to the trash ({size}, still taken until the trash is emptied; restore them from the trash to get them back)</source>
        <translation>
            <numerusform>Moved %n file to the trash ({size}, still taken until the trash is emptied; restore it from the trash to get it back)</numerusform>
            <numerusform>Moved %n files to the trash ({size}, still taken until the trash is emptied; restore them from the trash to get them back)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Deleted the partial data of %n file(s) permanently ({size} freed)</source>
        <translation>
            <numerusform>Deleted the partial data of %n file permanently ({size} freed)</numerusform>
            <numerusform>Deleted the partial data of %n files permanently ({size} freed)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Deleted %n file(s) permanently ({size} freed)</source>
        <translation>
            <numerusform>Deleted %n file permanently ({size} freed)</numerusform>
            <numerusform>Deleted %n files permanently ({size} freed)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n failed, the rows and messages say why</source>
        <translation>
            <numerusform>%n failed, the rows and messages say why</numerusform>
            <numerusform>%n failed, the rows and messages say why</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Confirm</name>
    <message numerus="yes">
        <source>{users} need(s) the backbone {names}, which is not downloaded or queued.

Queue {names} as well?</source>
        <translation>
            <numerusform>{users} needs the backbone {names}, which is not downloaded or queued.

Queue {names} as well?</numerusform>
            <numerusform>{users} need the backbone {names}, which is not downloaded or queued.

Queue {names} as well?</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Move %n file(s) ({size}) to the desktop trash? In the trash they take their space until it is emptied.</source>
        <translation>
            <numerusform>Move %n file ({size}) to the desktop trash? In the trash it takes its space until it is emptied.</numerusform>
            <numerusform>Move %n files ({size}) to the desktop trash? In the trash they take their space until it is emptied.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>FolderChange</name>
    <message numerus="yes">
        <source>moved %n file(s)</source>
        <translation>
            <numerusform>moved %n file</numerusform>
            <numerusform>moved %n files</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>left %n file(s) in the old folder, their names being taken here or a link or folder being at one of their names: {names}</source>
        <translation>
            <numerusform>left %n file in the old folder, its name being taken here or a link or folder being at its name: {names}</numerusform>
            <numerusform>left %n files in the old folder, their names being taken here or a link or folder being at one of their names: {names}</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>LinkDialog</name>
    <message numerus="yes">
        <source>Link %n checkpoint(s): {names}</source>
        <translation>
            <numerusform>Link %n checkpoint: {names}</numerusform>
            <numerusform>Link %n checkpoints: {names}</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>LinkRun</name>
    <message numerus="yes">
        <source>Waiting for %n download(s)…</source>
        <translation>
            <numerusform>Waiting for %n download…</numerusform>
            <numerusform>Waiting for %n downloads…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>{size} + %n of unknown size</source>
        <translation>
            <numerusform>{size} + %n of unknown size</numerusform>
            <numerusform>{size} + %n of unknown size</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n checkpoint(s) to link are not downloaded:</source>
        <translation>
            <numerusform>%n checkpoint to link is not downloaded:</numerusform>
            <numerusform>%n checkpoints to link are not downloaded:</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Link Only the %n Downloaded</source>
        <translation>
            <numerusform>Link Only the %n Downloaded</numerusform>
            <numerusform>Link Only the %n Downloaded</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Unpacking %n archive(s)…</source>
        <translation>
            <numerusform>Unpacking %n archive…</numerusform>
            <numerusform>Unpacking %n archives…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Making %n link(s)…</source>
        <translation>
            <numerusform>Making %n link…</numerusform>
            <numerusform>Making %n links…</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>LockExport</name>
    <message numerus="yes">
        <source>Pin %n Downloaded</source>
        <translation>
            <numerusform>Pin %n Downloaded</numerusform>
            <numerusform>Pin %n Downloaded</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Pin the %n downloaded checkpoint(s)?</source>
        <translation>
            <numerusform>Pin the %n downloaded checkpoint?</numerusform>
            <numerusform>Pin the %n downloaded checkpoints?</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Pinned %n checkpoint(s), {size}, in {path}</source>
        <translation>
            <numerusform>Pinned %n checkpoint, {size}, in {path}</numerusform>
            <numerusform>Pinned %n checkpoints, {size}, in {path}</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message numerus="yes">
        <source>Verifying %n file(s)…</source>
        <translation>
            <numerusform>Verifying %n file…</numerusform>
            <numerusform>Verifying %n files…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Copied %n path(s)</source>
        <translation>
            <numerusform>Copied %n path</numerusform>
            <numerusform>Copied %n paths</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>{done} — %n download(s) — {app}</source>
        <translation>
            <numerusform>{done} — %n download — {app}</numerusform>
            <numerusform>{done} — %n downloads — {app}</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ProjectLinks</name>
    <message numerus="yes">
        <source>%n link(s) made</source>
        <translation>
            <numerusform>%n link made</numerusform>
            <numerusform>%n links made</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n already there</source>
        <translation>
            <numerusform>%n already there</numerusform>
            <numerusform>%n already there</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n not made</source>
        <translation>
            <numerusform>%n not made</numerusform>
            <numerusform>%n not made</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n checkpoint(s) not ready</source>
        <translation>
            <numerusform>%n checkpoint not ready</numerusform>
            <numerusform>%n checkpoints not ready</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ScanReportDialog</name>
    <message numerus="yes">
        <source>%n checkpoint path(s) in the scripts</source>
        <translation>
            <numerusform>%n checkpoint path in the scripts</numerusform>
            <numerusform>%n checkpoint paths in the scripts</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n linked</source>
        <translation>
            <numerusform>%n linked</numerusform>
            <numerusform>%n linked</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n to link</source>
        <translation>
            <numerusform>%n to link</numerusform>
            <numerusform>%n to link</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n checkpoint(s) to download first</source>
        <translation>
            <numerusform>%n checkpoint to download first</numerusform>
            <numerusform>%n checkpoints to download first</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n unknown</source>
        <translation>
            <numerusform>%n unknown</numerusform>
            <numerusform>%n unknown</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>UnpackRun</name>
    <message numerus="yes">
        <source>Unpack %n file(s) from {name} into {folder}?</source>
        <translation>
            <numerusform>Unpack %n file from {name} into {folder}?</numerusform>
            <numerusform>Unpack %n files from {name} into {folder}?</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Unpacked %n file(s) of {name} ({size}) into {folder}</source>
        <translation>
            <numerusform>Unpacked %n file of {name} ({size}) into {folder}</numerusform>
            <numerusform>Unpacked %n files of {name} ({size}) into {folder}</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>UsageModel</name>
    <message numerus="yes">
        <source>{name} + %n sharing the file</source>
        <translation>
            <numerusform>{name} + %n other sharing the file</numerusform>
            <numerusform>{name} + %n others sharing the file</numerusform>
        </translation>
    </message>
</context>
</TS>
