<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>Accessibility</name>
    <message>
        <source>More buttons</source>
        <translation>更多按钮</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>清除</translation>
    </message>
</context>
<context>
    <name>AddCatalogDialog</name>
    <message>
        <source>Checkpoint lists (*.md *.markdown *.html *.htm *.txt);;All files (*)</source>
        <translation>检查点列表 (*.md *.markdown *.html *.htm *.txt);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Add Catalog</source>
        <translation>添加清单</translation>
    </message>
    <message>
        <source>A checkpoint list written in Markdown or HTML (such as OFA&apos;s checkpoints.md): each link to a checkpoint file becomes an entry, headings become groups.</source>
        <translation>用 Markdown 或 HTML 写成的检查点列表（例如 OFA 的 checkpoints.md）：每个指向检查点文件的链接成为一个条目，各级标题成为分组。</translation>
    </message>
    <message>
        <source>A file, or an address such as https://…/checkpoints.md</source>
        <translation>一个文件，或一个地址，例如 https://…/checkpoints.md</translation>
    </message>
    <message>
        <source>Choose File…</source>
        <translation>选择文件…</translation>
    </message>
    <message>
        <source>List:</source>
        <translation>列表：</translation>
    </message>
    <message>
        <source>Name:</source>
        <translation>名称：</translation>
    </message>
    <message>
        <source>Import</source>
        <translation>导入</translation>
    </message>
    <message>
        <source>Checkpoint list to import</source>
        <translation>要导入的检查点列表</translation>
    </message>
    <message>
        <source>Give a file or an address to import.</source>
        <translation>请给出要导入的文件或地址。</translation>
    </message>
    <message>
        <source>Reading {source}…</source>
        <translation>正在读取 {source}…</translation>
    </message>
    <message numerus="yes">
        <source>Imported %n checkpoint(s)</source>
        <translation>
            <numerusform>已导入 %n 个检查点</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source> in %n group(s)</source>
        <translation>
            <numerusform>，分为 %n 个分组</numerusform>
        </translation>
    </message>
    <message>
        <source> as {name!r}: {path}</source>
        <translation>，清单名为 {name!r}：{path}</translation>
    </message>
    <message>
        <source>Sharing a file with another catalog&apos;s entry (downloaded once): {ids}</source>
        <translation>与另一清单的条目共用同一文件（只下载一次）：{ids}</translation>
    </message>
    <message numerus="yes">
        <source>Left out %n link(s) that are not checkpoint files:</source>
        <translation>
            <numerusform>略过了 %n 个不是检查点文件的链接：</numerusform>
        </translation>
    </message>
    <message>
        <source>Nothing imported: {reason}</source>
        <translation>未导入任何内容：{reason}</translation>
    </message>
    <message>
        <source>The catalog {name!r} is in use the next time ofa-manager opens.</source>
        <translation>清单 {name!r} 将在下次打开 ofa-manager 时启用。</translation>
    </message>
</context>
<context>
    <name>ButtonsDelegate</name>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Retry</source>
        <translation>重试</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>显示</translation>
    </message>
</context>
<context>
    <name>CatalogsPage</name>
    <message>
        <source>Catalog</source>
        <translation>清单</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>标题</translation>
    </message>
    <message>
        <source>Entries</source>
        <translation>条目数</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Add…</source>
        <translation>添加…</translation>
    </message>
    <message>
        <source>Remove…</source>
        <translation>移除…</translation>
    </message>
    <message>
        <source>Tick a catalog to use it. Checkpoints listed in several catalogs are one file. Changes show in the tree the next time ofa-manager opens; downloaded files stay where they are.</source>
        <translation>勾选清单即可启用。多个清单中列出的同一检查点只对应一个文件。更改将在下次打开 ofa-manager 时显示在树中；已下载的文件保持原位。</translation>
    </message>
    <message>
        <source>built in</source>
        <translation>内置</translation>
    </message>
    <message>
        <source>The built-in catalog is always used</source>
        <translation>内置清单始终启用</translation>
    </message>
    <message>
        <source>(cannot be read)</source>
        <translation>（无法读取）</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Remove the catalog?</source>
        <translation>移除该清单？</translation>
    </message>
    <message>
        <source>Remove the catalog {name!r} ({path})?

Its checkpoints leave the tree; files already downloaded stay in the models folder. It can be imported again.</source>
        <translation>移除清单 {name!r}（{path}）？

其中的检查点将从树中消失；已下载的文件仍留在模型文件夹中。之后可以重新导入。</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Not removed: {reason}</source>
        <translation>未移除：{reason}</translation>
    </message>
    <message>
        <source>Removed {name!r}; downloaded files stay.</source>
        <translation>已移除 {name!r}；已下载的文件保持不变。</translation>
    </message>
</context>
<context>
    <name>CheckpointTreeModel</name>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>参数量</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Location</source>
        <translation>位置</translation>
    </message>
    <message>
        <source>No local file</source>
        <translation>无本地文件</translation>
    </message>
    <message>
        <source>None</source>
        <translation>无</translation>
    </message>
    <message>
        <source>Size unknown: the server has not said yet</source>
        <translation>大小未知：服务器尚未告知</translation>
    </message>
    <message>
        <source>{bytes} bytes</source>
        <translation>{bytes} 字节</translation>
    </message>
    <message>
        <source>{status}

This file {mismatch}.</source>
        <translation>{status}

此文件{mismatch}。</translation>
    </message>
    <message>
        <source>Will be saved as {path}</source>
        <translation>将保存为 {path}</translation>
    </message>
    <message>
        <source>Total of the distinct files in this group (shared files counted once)</source>
        <translation>本组中各不相同的文件的总大小（共享文件只计一次）</translation>
    </message>
    <message numerus="yes">
        <source>{size} + %n unknown</source>
        <translation>
            <numerusform>{size} + %n 个未知</numerusform>
        </translation>
    </message>
    <message>
        <source>{done} of {total} downloaded</source>
        <translation>已下载 {done}/{total}</translation>
    </message>
    <message>
        <source>{summary}, {running} downloading</source>
        <translation>{summary}，{running} 个正在下载</translation>
    </message>
    <message>
        <source>Needs the backbone {title}.</source>
        <translation>需要骨干网络 {title}。</translation>
    </message>
    <message>
        <source>Shares one file ({file}) with: {others}. It is downloaded and stored once; deleting it removes it for all of them.</source>
        <translation>与以下条目共用一个文件（{file}）：{others}。该文件只下载、保存一次；删除它会对所有这些条目生效。</translation>
    </message>
</context>
<context>
    <name>Commands</name>
    <message>
        <source>Trying {names} again…</source>
        <translation>正在重试 {names}…</translation>
    </message>
    <message>
        <source>{names}: CORRUPT — the file does not match its hash; delete it and download it again</source>
        <translation>{names}：已损坏 — 文件与其哈希值不符；请删除后重新下载</translation>
    </message>
    <message>
        <source>{names}: not ours — {reason}</source>
        <translation>{names}：非本程序文件 — {reason}</translation>
    </message>
    <message>
        <source>{names}: verified, sha256 {sha}</source>
        <translation>{names}：已校验，sha256 {sha}</translation>
    </message>
    <message>
        <source>Verify</source>
        <translation>校验</translation>
    </message>
    <message>
        <source>{action} failed for {name}: {reason}</source>
        <translation>{name}：{action}失败：{reason}</translation>
    </message>
    <message numerus="yes">
        <source>Checking %n link(s)…</source>
        <translation>
            <numerusform>正在检查 %n 个链接…</numerusform>
        </translation>
    </message>
    <message>
        <source>Checking the link</source>
        <translation>检查链接</translation>
    </message>
    <message>
        <source>No answer from {host} ({reason}); sizes stay unknown — Check Links asks again</source>
        <translation>{host} 没有响应（{reason}）；文件大小暂时未知 — “检查链接”会再次询问</translation>
    </message>
    <message numerus="yes">
        <source>All %n link(s) answer</source>
        <translation>
            <numerusform>全部 %n 个链接均可用</numerusform>
        </translation>
    </message>
    <message>
        <source>{name}: {reason}</source>
        <translation>{name}：{reason}</translation>
    </message>
    <message>
        <source>{name} (mirror at {host})</source>
        <translation>{name}（{host} 上的镜像）</translation>
    </message>
    <message numerus="yes">
        <source>{failed} of %n link(s) failed — {details}</source>
        <translation>
            <numerusform>%n 个链接中有 {failed} 个失败 — {details}</numerusform>
        </translation>
    </message>
    <message>
        <source>Moving to the trash</source>
        <translation>移到回收站</translation>
    </message>
    <message numerus="yes">
        <source>Moved %n file(s) to the trash ({size}, still taken until the trash is emptied; restore them from the trash to get them back)</source>
        <translation>
            <numerusform>已将 %n 个文件移到回收站（{size}，在回收站清空前仍占用空间；可从回收站恢复）</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Deleted the partial data of %n file(s) permanently ({size} freed)</source>
        <translation>
            <numerusform>已永久删除 %n 个文件的部分数据（释放 {size}）</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Deleted %n file(s) permanently ({size} freed)</source>
        <translation>
            <numerusform>已永久删除 %n 个文件（释放 {size}）</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n failed, the rows and messages say why</source>
        <translation>
            <numerusform>%n 个失败，原因见各行和消息</numerusform>
        </translation>
    </message>
    <message>
        <source>Moved {name} to the trash: {where} ({size}, still taken until the trash is emptied; restore it from the trash to get it back)</source>
        <translation>已将 {name} 移到回收站：{where}（{size}，在回收站清空前仍占用空间；可从回收站恢复）</translation>
    </message>
    <message>
        <source>Deleting the partial file</source>
        <translation>删除未完成文件</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Deleted the partial file of {name} permanently ({freed} freed)</source>
        <translation>已永久删除 {name} 的未完成文件（释放 {freed}）</translation>
    </message>
    <message>
        <source>Deleted the {name} permanently ({freed} freed)</source>
        <translation>已永久删除 {name}（释放 {freed}）</translation>
    </message>
    <message>
        <source>Keep Anyway</source>
        <translation>仍然保留</translation>
    </message>
    <message>
        <source>Kept {name} anyway: it differs from the catalog and is not verified</source>
        <translation>已保留 {name}：它与清单不符，未经校验</translation>
    </message>
    <message>
        <source>Deleting the rejected copy</source>
        <translation>正在删除未通过校验的副本</translation>
    </message>
    <message>
        <source>Deleted the rejected copy of {name} ({freed} freed)</source>
        <translation>已删除 {name} 未通过校验的副本（释放 {freed}）</translation>
    </message>
    <message>
        <source>Cannot save the settings ({reason}); they apply until ofa-manager closes</source>
        <translation>无法保存设置（{reason}）；这些设置在 ofa-manager 关闭前有效</translation>
    </message>
    <message>
        <source>Cannot save the settings: {reason}</source>
        <translation>无法保存设置：{reason}</translation>
    </message>
</context>
<context>
    <name>Confirm</name>
    <message>
        <source>Queue {names} Too</source>
        <translation>同时加入 {names}</translation>
    </message>
    <message>
        <source>Only the Selected</source>
        <translation>仅所选</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Download the backbone too?</source>
        <translation>同时下载骨干网络？</translation>
    </message>
    <message numerus="yes">
        <source>{users} need(s) the backbone {names}, which is not downloaded or queued.

Queue {names} as well?</source>
        <translation>
            <numerusform>{users} 需要骨干网络 {names}，但它既未下载也不在下载队列中。

是否同时将 {names} 加入下载队列？</numerusform>
        </translation>
    </message>
    <message>
        <source>Queue Anyway</source>
        <translation>仍然加入队列</translation>
    </message>
    <message>
        <source>Not enough disk space</source>
        <translation>磁盘空间不足</translation>
    </message>
    <message>
        <source>These downloads need {needed} (with the ones already queued), but only {free} is free in {folder}.</source>
        <translation>这些下载（连同队列中已有的）需要 {needed}，但 {folder} 中只有 {free} 可用空间。</translation>
    </message>
    <message>
        <source>• {file} — {size}</source>
        <translation>• {file} — {size}</translation>
    </message>
    <message>
        <source>   the same file is used by: {names}</source>
        <translation>   使用同一文件的还有：{names}</translation>
    </message>
    <message>
        <source>   {backbone} is the backbone of downloaded PETL checkpoints, which will not work without it: {names}</source>
        <translation>   {backbone} 是已下载的 PETL 检查点的骨干网络，没有它这些检查点将无法使用：{names}</translation>
    </message>
    <message>
        <source>Move to Trash</source>
        <translation>移到回收站</translation>
    </message>
    <message>
        <source>Move to the trash?</source>
        <translation>移到回收站？</translation>
    </message>
    <message numerus="yes">
        <source>Move %n file(s) ({size}) to the desktop trash? In the trash they take their space until it is emptied.</source>
        <translation>
            <numerusform>将 %n 个文件（{size}）移到桌面回收站？在回收站清空之前，它们仍占用磁盘空间。</numerusform>
        </translation>
    </message>
    <message>
        <source>Delete Permanently</source>
        <translation>永久删除</translation>
    </message>
    <message>
        <source>{name} ({size})</source>
        <translation>{name}（{size}）</translation>
    </message>
    <message>
        <source>The trash cannot take the file</source>
        <translation>回收站无法接收该文件</translation>
    </message>
    <message>
        <source>{reason}.

Delete {name} permanently instead? This cannot be undone.</source>
        <translation>{reason}。

改为永久删除 {name}？此操作无法撤销。</translation>
    </message>
    <message>
        <source>Keep the File</source>
        <translation>保留文件</translation>
    </message>
    <message>
        <source>Download Again</source>
        <translation>重新下载</translation>
    </message>
    <message>
        <source>Keep Anyway</source>
        <translation>仍然保留</translation>
    </message>
    <message>
        <source>Download again?</source>
        <translation>重新下载？</translation>
    </message>
    <message>
        <source>The last download of {names} failed its check and was kept. Downloading again fetches the whole file once more; Keep Anyway uses the kept copy, marked as differing from the catalog.</source>
        <translation>{names} 的上次下载未通过校验，已保留下来。重新下载会再次获取整个文件；“仍然保留”则使用保留的副本，并标记为与清单不符。</translation>
    </message>
    <message>
        <source>Delete the rejected copy of {names} ({size})?</source>
        <translation>删除 {names} 未通过校验的副本（{size}）？</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Delete rejected copies?</source>
        <translation>删除未通过校验的副本？</translation>
    </message>
    <message>
        <source>Delete the partial data of {names} ({size})? A new download starts from the beginning.</source>
        <translation>删除 {names} 已下载的部分数据（{size}）？之后的下载将从头开始。</translation>
    </message>
    <message>
        <source>The download of {names} is cancelled first.</source>
        <translation>会先取消 {names} 的下载。</translation>
    </message>
    <message>
        <source>Delete partial files?</source>
        <translation>删除未完成文件？</translation>
    </message>
    <message>
        <source>Move Files</source>
        <translation>移动文件</translation>
    </message>
    <message>
        <source>Leave Them</source>
        <translation>保留原处</translation>
    </message>
    <message>
        <source>Move the checkpoints?</source>
        <translation>移动检查点？</translation>
    </message>
    <message>
        <source>The models folder becomes {folder}.

Move the checkpoints and partial files from {old} there? Unfinished downloads follow either way.</source>
        <translation>模型文件夹将改为 {folder}。

是否将检查点和未完成文件从 {old} 移到那里？无论如何，未完成的下载都会随之转移。</translation>
    </message>
    <message>
        <source>Close Anyway</source>
        <translation>仍然关闭</translation>
    </message>
    <message>
        <source>Stop moving the checkpoints?</source>
        <translation>停止移动检查点？</translation>
    </message>
    <message>
        <source>The checkpoints are being moved to {target}. Closing now stops the move: the files moved so far stay there, the others stay in {root}, which remains the models folder.</source>
        <translation>检查点正在移到 {target}。现在关闭会停止移动：已移动的文件留在那里，其余文件留在 {root}，它仍是模型文件夹。</translation>
    </message>
    <message>
        <source>Keep Moving</source>
        <translation>继续移动</translation>
    </message>
</context>
<context>
    <name>ContentsWatcher</name>
    <message>
        <source>Reading the rejected copy</source>
        <translation>正在读取未通过校验的副本</translation>
    </message>
</context>
<context>
    <name>DetailsPane</name>
    <message>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>sha256</source>
        <translation>sha256</translation>
    </message>
    <message>
        <source>Server</source>
        <translation>服务器</translation>
    </message>
    <message>
        <source>Holds</source>
        <translation>内容</translation>
    </message>
    <message>
        <source>Safety</source>
        <translation>安全性</translation>
    </message>
    <message>
        <source>Catalog</source>
        <translation>清单所述</translation>
    </message>
    <message>
        <source>Claim</source>
        <translation>核对</translation>
    </message>
    <message>
        <source>Load it</source>
        <translation>加载代码</translation>
    </message>
    <message>
        <source>Read Again</source>
        <translation>重新读取</translation>
    </message>
    <message>
        <source>Read what the file holds again (the zip directory and the pickle)</source>
        <translation>重新读取文件内容（zip 目录和 pickle）</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Copy the lines that load this file to the clipboard</source>
        <translation>将加载此文件的代码复制到剪贴板</translation>
    </message>
    <message>
        <source>How to load it</source>
        <translation>加载方法</translation>
    </message>
    <message>
        <source>Select one checkpoint to see where it comes from and what it holds.</source>
        <translation>选择一个检查点，查看它的来源和内容。</translation>
    </message>
    <message>
        <source>not downloaded; will be saved as {path}</source>
        <translation>未下载；将保存为 {path}</translation>
    </message>
    <message>
        <source>{size} ({bytes} bytes)</source>
        <translation>{size}（{bytes} 字节）</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <source>verified against the catalog</source>
        <translation>已按清单校验</translation>
    </message>
    <message>
        <source>computed</source>
        <translation>已计算</translation>
    </message>
    <message>
        <source>{sha} ({how})</source>
        <translation>{sha}（{how}）</translation>
    </message>
    <message>
        <source>{sha} (the catalog&apos;s)</source>
        <translation>{sha}（清单给出）</translation>
    </message>
    <message>
        <source>not known yet</source>
        <translation>暂不知道</translation>
    </message>
    <message>
        <source>none recorded</source>
        <translation>无记录</translation>
    </message>
    <message>
        <source>states nothing</source>
        <translation>未作说明</translation>
    </message>
    <message>
        <source>not downloaded</source>
        <translation>未下载</translation>
    </message>
    <message>
        <source># Download the file to see how to load it.</source>
        <translation># 下载文件后即可查看加载方法。</translation>
    </message>
    <message>
        <source>The last download failed its check ({reason}) and is kept as {name}; this is what it holds:</source>
        <translation>上次下载未通过校验（{reason}），已保留为 {name}；其内容如下：</translation>
    </message>
    <message>
        <source>no reason recorded</source>
        <translation>未记录原因</translation>
    </message>
    <message>
        <source>{sha} (the rejected copy&apos;s)</source>
        <translation>{sha}（未通过校验的副本）</translation>
    </message>
    <message>
        <source>Reading…</source>
        <translation>正在读取…</translation>
    </message>
    <message>
        <source>UNSAFE: {why}</source>
        <translation>不安全：{why}</translation>
    </message>
    <message>
        <source>This file {mismatch}.</source>
        <translation>此文件{mismatch}。</translation>
    </message>
    <message>
        <source>A warning: the file is kept; load it only if you know what it is.</source>
        <translation>警告：文件已保留；只有在清楚其来历时才加载它。</translation>
    </message>
    <message>
        <source>holds what the catalog says</source>
        <translation>内容与清单所述一致</translation>
    </message>
    <message>
        <source># torch.load(weights_only=True) cannot read this file.</source>
        <translation># torch.load(weights_only=True) 无法读取此文件。</translation>
    </message>
    <message>
        <source># Not safe to load: do not use torch.load(weights_only=False).</source>
        <translation># 加载不安全：请勿使用 torch.load(weights_only=False)。</translation>
    </message>
</context>
<context>
    <name>DiskPanel</name>
    <message>
        <source>Checkpoints</source>
        <translation>检查点</translation>
    </message>
    <message>
        <source>Partial files</source>
        <translation>未完成文件</translation>
    </message>
    <message>
        <source>Other data in the folder</source>
        <translation>文件夹中的其他数据</translation>
    </message>
    <message>
        <source>Rest of the volume</source>
        <translation>卷上的其他数据</translation>
    </message>
    <message>
        <source>Free</source>
        <translation>可用空间</translation>
    </message>
    <message>
        <source>Colour of {figure} in the bar</source>
        <translation>条形图中“{figure}”的颜色</translation>
    </message>
    <message>
        <source>Disk usage</source>
        <translation>磁盘占用</translation>
    </message>
    <message>
        <source>By size</source>
        <translation>按大小</translation>
    </message>
    <message>
        <source>Models folder &lt;b&gt;{folder}&lt;/b&gt;</source>
        <translation>模型文件夹 &lt;b&gt;{folder}&lt;/b&gt;</translation>
    </message>
    <message>
        <source>Models folder &lt;b&gt;{folder}&lt;/b&gt;&lt;br&gt;on a volume of {size}</source>
        <translation>模型文件夹 &lt;b&gt;{folder}&lt;/b&gt;&lt;br&gt;所在卷容量 {size}</translation>
    </message>
    <message>
        <source>{free} bytes free of {total}</source>
        <translation>可用 {free} 字节，共 {total} 字节</translation>
    </message>
</context>
<context>
    <name>DownloadProcess</name>
    <message>
        <source>The download process is from another version of ofa-manager (protocol {theirs}, this window {ours}); reinstall ofa-manager</source>
        <translation>下载进程来自另一个版本的 ofa-manager（协议 {theirs}，本窗口 {ours}）；请重新安装 ofa-manager</translation>
    </message>
    <message>
        <source>The download process keeps stopping ({reason}, exit code {code}); restart ofa-manager</source>
        <translation>下载进程反复停止（{reason}，退出码 {code}）；请重启 ofa-manager</translation>
    </message>
    <message>
        <source>The download process was not responding for {seconds:.0f} s; restarted it</source>
        <translation>下载进程 {seconds:.0f} 秒无响应，已重启</translation>
    </message>
    <message>
        <source>The download process stopped (exit code {code}); restarted it</source>
        <translation>下载进程已停止（退出码 {code}），已重启</translation>
    </message>
    <message>
        <source>The download process stopped ({reason}); restarted it</source>
        <translation>下载进程已停止（{reason}），已重启</translation>
    </message>
</context>
<context>
    <name>DownloadWaiter</name>
    <message>
        <source>the download failed</source>
        <translation>下载失败</translation>
    </message>
    <message>
        <source>its download did not finish ({why})</source>
        <translation>其下载未完成（{why}）</translation>
    </message>
    <message>
        <source>its download was taken off the list</source>
        <translation>其下载已从下载队列中移除</translation>
    </message>
</context>
<context>
    <name>DownloadsModel</name>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>进度</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Speed</source>
        <translation>速度</translation>
    </message>
    <message>
        <source>Time left</source>
        <translation>剩余时间</translation>
    </message>
    <message>
        <source>Conn.</source>
        <comment>connections</comment>
        <translation>连接</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Actions</source>
        <translation>操作</translation>
    </message>
    <message>
        <source>{done} of {total}</source>
        <translation>{done} / {total}</translation>
    </message>
    <message>
        <source>{path}
File of: {names}</source>
        <translation>{path}
所属条目：{names}</translation>
    </message>
    <message>
        <source>Buttons of this row: {names}; its context menu offers them too</source>
        <translation>本行的按钮：{names}；右键菜单里也有这些操作</translation>
    </message>
    <message>
        <source>None</source>
        <translation>无</translation>
    </message>
</context>
<context>
    <name>DownloadsPanel</name>
    <message>
        <source>Downloads</source>
        <translation>下载队列</translation>
    </message>
    <message>
        <source>Move up</source>
        <translation>上移</translation>
    </message>
    <message>
        <source>Start the selected download earlier</source>
        <translation>提前开始所选下载</translation>
    </message>
    <message>
        <source>Move down</source>
        <translation>下移</translation>
    </message>
    <message>
        <source>Start the selected download later</source>
        <translation>推迟开始所选下载</translation>
    </message>
    <message>
        <source>Pause all</source>
        <translation>全部暂停</translation>
    </message>
    <message>
        <source>Pause every download (partial data is kept)</source>
        <translation>暂停所有下载（已下载的部分数据会保留）</translation>
    </message>
    <message>
        <source>Resume all</source>
        <translation>全部继续</translation>
    </message>
    <message>
        <source>Resume every paused or failed download</source>
        <translation>继续所有已暂停或失败的下载</translation>
    </message>
    <message>
        <source>Cancel all</source>
        <translation>全部取消</translation>
    </message>
    <message>
        <source>Take every unfinished download off the list (partial data is kept)</source>
        <translation>将所有未完成的下载移出列表（已下载的部分数据会保留）</translation>
    </message>
    <message>
        <source>Clear finished</source>
        <translation>清除已完成</translation>
    </message>
    <message>
        <source>Remove finished downloads from the list</source>
        <translation>从列表中移除已完成的下载</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Retry</source>
        <translation>重试</translation>
    </message>
    <message>
        <source>Show in Folder</source>
        <translation>在文件夹中显示</translation>
    </message>
    <message>
        <source>Move Up</source>
        <translation>上移</translation>
    </message>
    <message>
        <source>Move Down</source>
        <translation>下移</translation>
    </message>
    <message>
        <source>Take Off the List</source>
        <translation>移出列表</translation>
    </message>
    <message>
        <source>Cancel unfinished downloads (their data is kept) or remove rows</source>
        <translation>取消未完成的下载（其数据会保留）或移除这些行</translation>
    </message>
    <message>
        <source>{n} running</source>
        <translation>{n} 个进行中</translation>
    </message>
    <message>
        <source>{n} queued</source>
        <translation>{n} 个排队中</translation>
    </message>
    <message>
        <source>{n} paused</source>
        <translation>{n} 个已暂停</translation>
    </message>
    <message>
        <source>{n} failed</source>
        <translation>{n} 个失败</translation>
    </message>
    <message>
        <source>{n} finished</source>
        <translation>{n} 个已完成</translation>
    </message>
    <message>
        <source>nothing queued</source>
        <translation>下载队列为空</translation>
    </message>
</context>
<context>
    <name>FolderChange</name>
    <message>
        <source>Moving the checkpoints to {folder}…</source>
        <translation>正在将检查点移到 {folder}…</translation>
    </message>
    <message>
        <source>Switching to {folder}…</source>
        <translation>正在切换到 {folder}…</translation>
    </message>
    <message>
        <source>Moving the checkpoints to {folder}… {percent}</source>
        <translation>正在将检查点移到 {folder}… {percent}</translation>
    </message>
    <message>
        <source>Cannot save the settings ({reason}); the new folder applies until ofa-manager closes</source>
        <translation>无法保存设置（{reason}）；新文件夹在 ofa-manager 关闭前有效</translation>
    </message>
    <message>
        <source>Models folder is now {folder}</source>
        <translation>模型文件夹现在是 {folder}</translation>
    </message>
    <message numerus="yes">
        <source>moved %n file(s)</source>
        <translation>
            <numerusform>已移动 %n 个文件</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>left %n file(s) in the old folder, their names being taken here or a link or folder being at one of their names: {names}</source>
        <translation>
            <numerusform>有 %n 个文件留在旧文件夹中，因为新文件夹中已有同名文件、链接或文件夹：{names}</numerusform>
        </translation>
    </message>
    <message>
        <source>; </source>
        <comment>between the parts of a sentence</comment>
        <translation>；</translation>
    </message>
    <message>
        <source>Changing the models folder failed for {name}: {reason}</source>
        <translation>更改模型文件夹失败（{name}）：{reason}</translation>
    </message>
</context>
<context>
    <name>LinkDialog</name>
    <message>
        <source>Link into Project Folder</source>
        <translation>链接到项目文件夹</translation>
    </message>
    <message>
        <source>Nothing linked</source>
        <translation>未创建任何链接</translation>
    </message>
    <message numerus="yes">
        <source>Link %n checkpoint(s): {names}</source>
        <translation>
            <numerusform>链接 %n 个检查点：{names}</numerusform>
        </translation>
    </message>
    <message>
        <source>The folder your scripts read checkpoints from</source>
        <translation>脚本读取检查点的文件夹</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <source>each under its own file name</source>
        <translation>各用其自身的文件名</translation>
    </message>
    <message>
        <source>Project folder:</source>
        <translation>项目文件夹：</translation>
    </message>
    <message>
        <source>Link name:</source>
        <translation>链接名称：</translation>
    </message>
    <message>
        <source>Mode:</source>
        <translation>方式：</translation>
    </message>
    <message>
        <source>A file at a link&apos;s name that is not our link is never replaced: it is named here.</source>
        <translation>链接名称处已有的文件若不是本程序创建的链接，绝不会被替换：会在这里列出。</translation>
    </message>
    <message>
        <source>Link</source>
        <translation>链接</translation>
    </message>
    <message>
        <source>Project folder to link into</source>
        <translation>要链接到的项目文件夹</translation>
    </message>
    <message>
        <source>Choose the project folder (a full path).</source>
        <translation>请选择项目文件夹（完整路径）。</translation>
    </message>
    <message>
        <source>{path} is not a folder.</source>
        <translation>{path} 不是文件夹。</translation>
    </message>
    <message>
        <source>The link name {name!r} {problem}.</source>
        <translation>链接名称 {name!r} {problem}。</translation>
    </message>
    <message>
        <source>{id}: not linked — {why}</source>
        <translation>{id}：未链接 — {why}</translation>
    </message>
</context>
<context>
    <name>LinkModes</name>
    <message>
        <source>Symbolic link (no extra space)</source>
        <translation>符号链接（不占额外空间）</translation>
    </message>
    <message>
        <source>Hard link (same volume only)</source>
        <translation>硬链接（仅限同一卷）</translation>
    </message>
    <message>
        <source>Copy (uses the space again)</source>
        <translation>复制（再占一份空间）</translation>
    </message>
</context>
<context>
    <name>LinkRun</name>
    <message numerus="yes">
        <source>Waiting for %n download(s)…</source>
        <translation>
            <numerusform>正在等待 %n 个下载…</numerusform>
        </translation>
    </message>
    <message>
        <source>Stop Waiting</source>
        <translation>停止等待</translation>
    </message>
    <message>
        <source>Stop waiting for the downloads?</source>
        <translation>停止等待这些下载？</translation>
    </message>
    <message>
        <source>The links are made when the downloads finish. Closing now leaves the downloads running, but makes no links; Apply or Link again later makes them without downloading twice.</source>
        <translation>链接会在下载完成后创建。现在关闭，下载会继续进行，但不会创建链接；之后再次点击“应用”或“链接”即可创建，无需重复下载。</translation>
    </message>
    <message>
        <source>Keep Waiting</source>
        <translation>继续等待</translation>
    </message>
    <message numerus="yes">
        <source>{size} + %n of unknown size</source>
        <translation>
            <numerusform>{size} + %n 个大小未知</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n checkpoint(s) to link are not downloaded:</source>
        <translation>
            <numerusform>要链接的 %n 个检查点尚未下载：</numerusform>
        </translation>
    </message>
    <message>
        <source>Download plan: {total}; {free} free in {folder}.</source>
        <translation>下载计划：{total}；{folder} 中可用 {free}。</translation>
    </message>
    <message>
        <source>The files the scripts read are inside {names}: it is unpacked after.</source>
        <translation>脚本读取的文件在 {names} 之中：下载后会将其解压。</translation>
    </message>
    <message>
        <source>Download them first, then make the links?</source>
        <translation>先下载它们，再创建链接？</translation>
    </message>
    <message>
        <source>Download and Link</source>
        <translation>下载并链接</translation>
    </message>
    <message numerus="yes">
        <source>Link Only the %n Downloaded</source>
        <translation>
            <numerusform>只链接已下载的 %n 个</numerusform>
        </translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Download first?</source>
        <translation>先下载？</translation>
    </message>
    <message numerus="yes">
        <source>Unpacking %n archive(s)…</source>
        <translation>
            <numerusform>正在解压 %n 个压缩包…</numerusform>
        </translation>
    </message>
    <message>
        <source>not unpacked: {why}</source>
        <translation>未解压：{why}</translation>
    </message>
    <message numerus="yes">
        <source>Making %n link(s)…</source>
        <translation>
            <numerusform>正在创建 %n 个链接…</numerusform>
        </translation>
    </message>
    <message>
        <source>Linking failed: {reason}</source>
        <translation>链接失败：{reason}</translation>
    </message>
</context>
<context>
    <name>LockExport</name>
    <message>
        <source>Lock files (*.json);;All files (*)</source>
        <translation>锁定文件 (*.json);;所有文件 (*)</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>确定</translation>
    </message>
    <message>
        <source>None of the selected checkpoints is downloaded; a lock file pins only files that are here.</source>
        <translation>所选检查点均未下载；锁定文件只锁定本地已有的文件。</translation>
    </message>
    <message>
        <source>Nothing is downloaded in {folder}; a lock file would be empty.</source>
        <translation>{folder} 中没有已下载的文件；锁定文件将为空。</translation>
    </message>
    <message>
        <source>Nothing to pin</source>
        <translation>没有可锁定的内容</translation>
    </message>
    <message numerus="yes">
        <source>Pin %n Downloaded</source>
        <translation>
            <numerusform>锁定已下载的 %n 个</numerusform>
        </translation>
    </message>
    <message>
        <source>Pin only what is downloaded?</source>
        <translation>只锁定已下载的？</translation>
    </message>
    <message>
        <source>Not downloaded, so not pinned: {names}.</source>
        <translation>未下载，因此不锁定：{names}。</translation>
    </message>
    <message numerus="yes">
        <source>Pin the %n downloaded checkpoint(s)?</source>
        <translation>
            <numerusform>锁定已下载的 %n 个检查点？</numerusform>
        </translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Save the lock file</source>
        <translation>保存锁定文件</translation>
    </message>
    <message>
        <source>Writing the lock file {path}…</source>
        <translation>正在写入锁定文件 {path}…</translation>
    </message>
    <message>
        <source>No lock file written: {reason}</source>
        <translation>未写入锁定文件：{reason}</translation>
    </message>
    <message>
        <source>Lock file not written</source>
        <translation>锁定文件未写入</translation>
    </message>
    <message numerus="yes">
        <source>Pinned %n checkpoint(s), {size}, in {path}</source>
        <translation>
            <numerusform>已将 %n 个检查点（{size}）锁定到 {path}</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Details</source>
        <translation>详情</translation>
    </message>
    <message>
        <source>Disk usage</source>
        <translation>磁盘占用</translation>
    </message>
    <message>
        <source>Search checkpoints…</source>
        <translation>搜索检查点…</translation>
    </message>
    <message>
        <source>Filter by name, id, group or file name (Ctrl+F)</source>
        <translation>按名称、ID、分组或文件名筛选（Ctrl+F）</translation>
    </message>
    <message>
        <source>Search checkpoints</source>
        <translation>搜索检查点</translation>
    </message>
    <message>
        <source>Nothing to download: the selected checkpoints are here or already queued</source>
        <translation>没有需要下载的：所选检查点已在本地或已在下载队列中</translation>
    </message>
    <message numerus="yes">
        <source>Verifying %n file(s)…</source>
        <translation>
            <numerusform>正在校验 %n 个文件…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Copied %n path(s)</source>
        <translation>
            <numerusform>已复制 %n 个路径</numerusform>
        </translation>
    </message>
    <message>
        <source>No file manager could open {folder}</source>
        <translation>没有文件管理器能打开 {folder}</translation>
    </message>
    <message>
        <source>Nothing deleted</source>
        <translation>未删除任何文件</translation>
    </message>
    <message>
        <source>OFA_MANAGER_DIR is set: at start-up it decides the folder, whatever is chosen here.</source>
        <translation>已设置 OFA_MANAGER_DIR：启动时由它决定模型文件夹，无论此处选择什么。</translation>
    </message>
    <message>
        <source>The models folder must be a full path; it stays {folder}</source>
        <translation>模型文件夹必须是完整路径；仍为 {folder}</translation>
    </message>
    <message>
        <source>The models folder stays {folder} while a folder move runs; choose it again after</source>
        <translation>文件夹移动进行期间，模型文件夹仍为 {folder}；请在移动完成后重新选择</translation>
    </message>
    <message>
        <source>The models folder stays {folder} while a verification runs; choose it again after</source>
        <translation>校验进行期间，模型文件夹仍为 {folder}；请在校验完成后重新选择</translation>
    </message>
    <message>
        <source>Another ofa-manager window is open on {folder}: it was brought forward</source>
        <translation>另一个 ofa-manager 窗口已打开 {folder}：已将其置于前台</translation>
    </message>
    <message>
        <source>Settings saved; the language changes the next time ofa-manager starts</source>
        <translation>设置已保存；语言将在下次启动 ofa-manager 时更改</translation>
    </message>
    <message>
        <source>Settings saved</source>
        <translation>设置已保存</translation>
    </message>
    <message numerus="yes">
        <source>{done} — %n download(s) — {app}</source>
        <translation>
            <numerusform>{done} — %n 个下载 — {app}</numerusform>
        </translation>
    </message>
    <message>
        <source>Download failed</source>
        <translation>下载失败</translation>
    </message>
    <message>
        <source>{title}: {reason}</source>
        <translation>{title}：{reason}</translation>
    </message>
    <message>
        <source>Download finished</source>
        <translation>下载完成</translation>
    </message>
    <message>
        <source>{title}
{path}</source>
        <translation>{title}
{path}</translation>
    </message>
    <message>
        <source>Download</source>
        <translation>下载</translation>
    </message>
    <message>
        <source>Download the selected checkpoints (resumes partial files)</source>
        <translation>下载所选检查点（未完成的文件会续传）</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Pause the selected downloads; the data so far is kept</source>
        <translation>暂停所选下载；已下载的数据会保留</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Resume paused downloads and partial files</source>
        <translation>继续已暂停的下载和未完成的文件</translation>
    </message>
    <message>
        <source>Take the selected downloads off the list; the partial data stays for later</source>
        <translation>将所选下载移出列表；已下载的部分数据保留，供以后续传</translation>
    </message>
    <message>
        <source>Retry</source>
        <translation>重试</translation>
    </message>
    <message>
        <source>Try failed downloads again</source>
        <translation>重新尝试失败的下载</translation>
    </message>
    <message>
        <source>Keep Anyway</source>
        <translation>仍然保留</translation>
    </message>
    <message>
        <source>Use the download that failed its check without downloading again; it is marked as differing from the catalog, never as verified</source>
        <translation>直接使用未通过校验的下载，不再重新下载；它会被标记为与清单不符，永远不会显示为已校验</translation>
    </message>
    <message>
        <source>Delete Rejected Copy</source>
        <translation>删除未通过校验的副本</translation>
    </message>
    <message>
        <source>Delete the kept copy of a download that failed its check</source>
        <translation>删除保留下来的未通过校验的下载副本</translation>
    </message>
    <message>
        <source>Inspect</source>
        <translation>查看内容</translation>
    </message>
    <message>
        <source>Show what the kept copy of a download that failed its check holds</source>
        <translation>显示保留下来的未通过校验的副本的内容</translation>
    </message>
    <message>
        <source>Verify</source>
        <translation>校验</translation>
    </message>
    <message>
        <source>Re-hash the local files and compare with the known sha256</source>
        <translation>重新计算本地文件的哈希值，并与已知的 sha256 比较</translation>
    </message>
    <message>
        <source>Open Folder</source>
        <translation>打开文件夹</translation>
    </message>
    <message>
        <source>Open the folder that holds the selected files</source>
        <translation>打开所选文件所在的文件夹</translation>
    </message>
    <message>
        <source>Copy Path</source>
        <translation>复制路径</translation>
    </message>
    <message>
        <source>Copy the full paths of the selected files</source>
        <translation>复制所选文件的完整路径</translation>
    </message>
    <message>
        <source>Move the local copies to the desktop trash</source>
        <translation>将本地副本移到桌面回收站</translation>
    </message>
    <message>
        <source>Delete Partial File</source>
        <translation>删除未完成文件</translation>
    </message>
    <message>
        <source>Delete unfinished partial data</source>
        <translation>删除未完成的部分数据</translation>
    </message>
    <message>
        <source>Check Links</source>
        <translation>检查链接</translation>
    </message>
    <message>
        <source>Ask the servers (HEAD) whether the links answer and how big the files are</source>
        <translation>向服务器发送 HEAD 请求，检查链接是否可用以及文件大小</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>Models folder, limits, mirrors, tokens</source>
        <translation>模型文件夹、限速、镜像、令牌</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>Read the models folder again</source>
        <translation>重新读取模型文件夹</translation>
    </message>
    <message>
        <source>Find</source>
        <translation>查找</translation>
    </message>
    <message>
        <source>Search the checkpoints</source>
        <translation>搜索检查点</translation>
    </message>
    <message>
        <source>Check a Project Folder…</source>
        <translation>检查项目文件夹…</translation>
    </message>
    <message>
        <source>Read a project&apos;s shell scripts for the checkpoints they load, see what is there, and link what the catalog has</source>
        <translation>读取项目的 shell 脚本，找出它们加载的检查点，查看哪些已就绪，并链接清单中有的检查点</translation>
    </message>
    <message>
        <source>Link into Project Folder…</source>
        <translation>链接到项目文件夹…</translation>
    </message>
    <message>
        <source>Put links to the selected checkpoints into a project&apos;s folder</source>
        <translation>在项目文件夹中创建指向所选检查点的链接</translation>
    </message>
    <message>
        <source>Add Catalog…</source>
        <translation>添加清单…</translation>
    </message>
    <message>
        <source>Import a checkpoint list (Markdown or HTML, a file or an address) as a catalog</source>
        <translation>将检查点列表（Markdown 或 HTML，文件或地址）导入为清单</translation>
    </message>
    <message>
        <source>Export Lock File…</source>
        <translation>导出锁定文件…</translation>
    </message>
    <message>
        <source>Pin the selected (or all) downloaded checkpoints to their exact bytes in a lock file</source>
        <translation>在锁定文件中按确切字节锁定所选（或全部）已下载的检查点</translation>
    </message>
    <message>
        <source>Unpack</source>
        <translation>解压</translation>
    </message>
    <message>
        <source>Check the downloaded archive and unpack it into a folder beside it</source>
        <translation>校验已下载的压缩包，并解压到它旁边的文件夹</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <source>Close the window (downloads resume next time)</source>
        <translation>关闭窗口（下载会在下次启动时继续）</translation>
    </message>
    <message>
        <source>{tip} ({keys})</source>
        <translation>{tip}（{keys}）</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
</context>
<context>
    <name>MovedNotice</name>
    <message>
        <source>Open the New Folder</source>
        <translation>打开新文件夹</translation>
    </message>
    <message>
        <source>The checkpoints of this folder were moved to {folder} on {date}.</source>
        <translation>此文件夹中的检查点已于 {date} 移到 {folder}。</translation>
    </message>
    <message>
        <source>Open {folder}</source>
        <translation>打开 {folder}</translation>
    </message>
    <message>
        <source>Use {folder} as the models folder</source>
        <translation>将 {folder} 用作模型文件夹</translation>
    </message>
</context>
<context>
    <name>ProjectLinks</name>
    <message>
        <source>{path}: linked to {target}</source>
        <translation>{path}：已链接到 {target}</translation>
    </message>
    <message>
        <source>{path}: our old link now points to {target}</source>
        <translation>{path}：本程序的旧链接现已指向 {target}</translation>
    </message>
    <message>
        <source>{path}: already linked</source>
        <translation>{path}：已链接</translation>
    </message>
    <message>
        <source>{path}: left alone — {reason}</source>
        <translation>{path}：保持不动 — {reason}</translation>
    </message>
    <message>
        <source>{path}: not linked — {id} is not downloaded</source>
        <translation>{path}：未链接 — {id} 尚未下载</translation>
    </message>
    <message>
        <source>{path}: not linked — {reason}</source>
        <translation>{path}：未链接 — {reason}</translation>
    </message>
    <message numerus="yes">
        <source>%n link(s) made</source>
        <translation>
            <numerusform>已创建 %n 个链接</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n already there</source>
        <translation>
            <numerusform>%n 个已存在</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n not made</source>
        <translation>
            <numerusform>%n 个未创建</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n checkpoint(s) not ready</source>
        <translation>
            <numerusform>%n 个检查点尚未就绪</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ScanReportDialog</name>
    <message>
        <source>Check a Project Folder</source>
        <translation>检查项目文件夹</translation>
    </message>
    <message>
        <source>The project&apos;s folder (its shell scripts are read)</source>
        <translation>项目的文件夹（会读取其中的 shell 脚本）</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <source>Scan</source>
        <translation>扫描</translation>
    </message>
    <message>
        <source>Project folder:</source>
        <translation>项目文件夹：</translation>
    </message>
    <message>
        <source>Apply</source>
        <translation>应用</translation>
    </message>
    <message>
        <source>Download the checkpoints the scripts need (asking first) and link them where the scripts read them; files that are not our links are left alone</source>
        <translation>下载脚本需要的检查点（会先询问），并在脚本读取的位置创建链接；不是本程序创建的链接的文件保持不动</translation>
    </message>
    <message>
        <source>Link as:</source>
        <translation>链接方式：</translation>
    </message>
    <message>
        <source>Project folder to check</source>
        <translation>要检查的项目文件夹</translation>
    </message>
    <message>
        <source>Choose the project folder (a full path).</source>
        <translation>请选择项目文件夹（完整路径）。</translation>
    </message>
    <message>
        <source>{path} is not a folder.</source>
        <translation>{path} 不是文件夹。</translation>
    </message>
    <message>
        <source>Reading the scripts in {path}…</source>
        <translation>正在读取 {path} 中的脚本…</translation>
    </message>
    <message>
        <source>The folder cannot be read: {reason}</source>
        <translation>无法读取该文件夹：{reason}</translation>
    </message>
    <message numerus="yes">
        <source>%n checkpoint path(s) in the scripts</source>
        <translation>
            <numerusform>脚本中有 %n 个检查点路径</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n linked</source>
        <translation>
            <numerusform>%n 个已链接</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n to link</source>
        <translation>
            <numerusform>%n 个待链接</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n checkpoint(s) to download first</source>
        <translation>
            <numerusform>%n 个检查点需先下载</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n unknown</source>
        <translation>
            <numerusform>%n 个未知</numerusform>
        </translation>
    </message>
    <message>
        <source>Nothing downloaded, nothing linked</source>
        <translation>未下载任何文件，也未创建任何链接</translation>
    </message>
    <message>
        <source>{id}: not linked — {why}</source>
        <translation>{id}：未链接 — {why}</translation>
    </message>
</context>
<context>
    <name>ScanReportModel</name>
    <message>
        <source>uses a variable the script does not set</source>
        <translation>用到了脚本未设置的变量</translation>
    </message>
    <message>
        <source>named as a training run names its outputs</source>
        <translation>命名方式与训练运行的输出相同</translation>
    </message>
    <message>
        <source>our link is there; the file is not</source>
        <translation>本程序的链接还在，但文件不在</translation>
    </message>
    <message>
        <source>already there</source>
        <translation>已存在</translation>
    </message>
    <message>
        <source>no catalog entry has this file name</source>
        <translation>清单中没有条目使用此文件名</translation>
    </message>
    <message>
        <source>our link is there; the archive is not unpacked</source>
        <translation>本程序的链接还在，但压缩包尚未解压</translation>
    </message>
    <message>
        <source>under {folder}, which the project&apos;s scripts write to</source>
        <translation>位于 {folder} 下，项目的脚本会写入该处</translation>
    </message>
    <message>
        <source>already there; the name fits several entries: {ids}</source>
        <translation>已存在；该名称与多个条目相符：{ids}</translation>
    </message>
    <message>
        <source>the name fits several catalog entries: {ids}</source>
        <translation>该名称与清单中的多个条目相符：{ids}</translation>
    </message>
    <message>
        <source>already there; it fits several archive members: {fits}</source>
        <translation>已存在；它与压缩包中的多个成员相符：{fits}</translation>
    </message>
    <message>
        <source>it fits several archive members: {fits}</source>
        <translation>它与压缩包中的多个成员相符：{fits}</translation>
    </message>
    <message>
        <source>already there (fits {member} of {entry})</source>
        <translation>已存在（与 {entry} 中的 {member} 相符）</translation>
    </message>
    <message>
        <source>Expected path</source>
        <translation>预期路径</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Satisfied by</source>
        <translation>由谁满足</translation>
    </message>
    <message>
        <source>Script and line</source>
        <translation>脚本与行号</translation>
    </message>
    <message>
        <source>{path}
as the script writes it: {written}</source>
        <translation>{path}
脚本中的写法：{written}</translation>
    </message>
    <message>
        <source>{status}: {detail}</source>
        <translation>{status}：{detail}</translation>
    </message>
    <message>
        <source>{member} in {entry}</source>
        <translation>{entry} 中的 {member}</translation>
    </message>
    <message>
        <source>Linked</source>
        <translation>已链接</translation>
    </message>
    <message>
        <source>Unpacked, not linked</source>
        <translation>已解压，未链接</translation>
    </message>
    <message>
        <source>Downloaded, not unpacked</source>
        <translation>已下载，未解压</translation>
    </message>
    <message>
        <source>Downloaded, not linked</source>
        <translation>已下载，未链接</translation>
    </message>
    <message>
        <source>Not downloaded</source>
        <translation>未下载</translation>
    </message>
    <message>
        <source>Already present</source>
        <translation>已存在</translation>
    </message>
    <message>
        <source>Produced by the project</source>
        <translation>由项目生成</translation>
    </message>
    <message>
        <source>Unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <source>{entry}; {detail}</source>
        <translation>{entry}；{detail}</translation>
    </message>
    <message>
        <source>not our link; {entry} has this name</source>
        <translation>不是本程序的链接；{entry} 使用此名称</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>General</source>
        <translation>常规</translation>
    </message>
    <message>
        <source>Downloads</source>
        <translation>下载</translation>
    </message>
    <message>
        <source>Mirrors</source>
        <translation>镜像</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>令牌</translation>
    </message>
    <message>
        <source>Catalogs</source>
        <translation>清单</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <source>Models folder:</source>
        <translation>模型文件夹：</translation>
    </message>
    <message>
        <source>Resume unfinished downloads when ofa-manager starts</source>
        <translation>ofa-manager 启动时继续未完成的下载</translation>
    </message>
    <message>
        <source>Otherwise they come back paused</source>
        <translation>否则它们会以暂停状态恢复</translation>
    </message>
    <message>
        <source>Notify when a download finishes or fails</source>
        <translation>下载完成或失败时发出通知</translation>
    </message>
    <message>
        <source>Language:</source>
        <translation>语言：</translation>
    </message>
    <message>
        <source>As the system (%1)</source>
        <translation>跟随系统（%1）</translation>
    </message>
    <message>
        <source>Takes effect the next time ofa-manager starts</source>
        <translation>下次启动 ofa-manager 时生效</translation>
    </message>
    <message>
        <source>Shared stores</source>
        <translation>共享存储</translation>
    </message>
    <message>
        <source>Read-only folders of checkpoints that an administrator keeps (for example on NFS). A file there with the catalog&apos;s name and size counts as present and is used from there; ofa-manager never writes or deletes in them.</source>
        <translation>由管理员维护的只读检查点文件夹（例如在 NFS 上）。其中文件名和大小与清单一致的文件视为已存在，并直接从那里使用；ofa-manager 从不在其中写入或删除。</translation>
    </message>
    <message>
        <source>Add folder…</source>
        <translation>添加文件夹…</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Parallel downloads:</source>
        <translation>同时下载数：</translation>
    </message>
    <message>
        <source>Connections per download:</source>
        <translation>每个下载的连接数：</translation>
    </message>
    <message>
        <source>No limit</source>
        <translation>不限速</translation>
    </message>
    <message>
        <source>Bandwidth limit (all downloads):</source>
        <translation>带宽上限（所有下载合计）：</translation>
    </message>
    <message>
        <source> s</source>
        <comment>seconds, after a number</comment>
        <translation> 秒</translation>
    </message>
    <message>
        <source>Stall timeout:</source>
        <translation>停滞超时：</translation>
    </message>
    <message>
        <source>Retries per connection:</source>
        <translation>每个连接的重试次数：</translation>
    </message>
    <message>
        <source>URLs that start with the first text are fetched from the second instead (for example a lab mirror of the Beijing bucket). The first matching rule wins.</source>
        <translation>以第一列文字开头的 URL 改从第二列的地址下载（例如北京存储桶在实验室的镜像）。按第一条匹配的规则处理。</translation>
    </message>
    <message>
        <source>URL starts with</source>
        <translation>URL 开头</translation>
    </message>
    <message>
        <source>Replace with</source>
        <translation>替换为</translation>
    </message>
    <message>
        <source>Add rule</source>
        <translation>添加规则</translation>
    </message>
    <message>
        <source>Remove rule</source>
        <translation>移除规则</translation>
    </message>
    <message>
        <source>Lab cache</source>
        <translation>实验室缓存</translation>
    </message>
    <message>
        <source>A lab cache is one web server in the lab that keeps a copy of the bucket, so the bucket sends each file once for the whole lab (see “For a lab” in the README). Give its address to fetch the bucket&apos;s files through it; the command line does the same with “ofa-manager mirror add”.</source>
        <translation>实验室缓存是实验室内保存存储桶副本的一台 Web 服务器，这样每个文件只需从存储桶传输一次即可供整个实验室使用（见 README 中的“For a lab”）。填写它的地址，即可通过它获取存储桶中的文件；命令行中用“ofa-manager mirror add”实现同样的功能。</translation>
    </message>
    <message>
        <source>Bucket:</source>
        <translation>存储桶：</translation>
    </message>
    <message>
        <source>Cache address:</source>
        <translation>缓存地址：</translation>
    </message>
    <message>
        <source>Use the lab cache</source>
        <translation>使用实验室缓存</translation>
    </message>
    <message>
        <source>Not added: {problem}.</source>
        <translation>未添加：{problem}。</translation>
    </message>
    <message>
        <source>Files from {bucket} will come through {cache} once you press OK.</source>
        <translation>按“确定”后，来自 {bucket} 的文件将通过 {cache} 获取。</translation>
    </message>
    <message>
        <source>A token is sent only to its own host, as “Authorization: Bearer …”. Tokens are kept in the system keyring, never in the settings file.</source>
        <translation>令牌只会以“Authorization: Bearer …”的形式发送给它所属的主机。令牌保存在系统密钥环中，从不写入设置文件。</translation>
    </message>
    <message>
        <source>Host:</source>
        <translation>主机：</translation>
    </message>
    <message>
        <source>paste the token here</source>
        <translation>在此粘贴令牌</translation>
    </message>
    <message>
        <source>Token:</source>
        <translation>令牌：</translation>
    </message>
    <message>
        <source>Store token</source>
        <translation>保存令牌</translation>
    </message>
    <message>
        <source>Remove token</source>
        <translation>移除令牌</translation>
    </message>
    <message>
        <source>Looking in the system keyring…</source>
        <translation>正在查询系统密钥环…</translation>
    </message>
    <message>
        <source>Models folder</source>
        <translation>模型文件夹</translation>
    </message>
    <message>
        <source>Shared store</source>
        <translation>共享存储</translation>
    </message>
    <message>
        <source>Give a host and a token.</source>
        <translation>请填写主机和令牌。</translation>
    </message>
    <message>
        <source>Give a host.</source>
        <translation>请填写主机。</translation>
    </message>
    <message>
        <source>Removing the token from the system keyring…</source>
        <translation>正在从系统密钥环中移除令牌…</translation>
    </message>
    <message>
        <source>Storing the token in the system keyring (it may ask to be unlocked)…</source>
        <translation>正在将令牌保存到系统密钥环（可能会要求解锁）…</translation>
    </message>
    <message>
        <source>Token for {host} stored in the system keyring.</source>
        <translation>{host} 的令牌已保存到系统密钥环。</translation>
    </message>
    <message>
        <source>Token for {host} removed.</source>
        <translation>{host} 的令牌已移除。</translation>
    </message>
    <message>
        <source>No token was stored for {host}.</source>
        <translation>{host} 没有已保存的令牌。</translation>
    </message>
    <message>
        <source>Not stored: {problem}</source>
        <translation>未保存：{problem}</translation>
    </message>
    <message>
        <source>Not removed: {problem}</source>
        <translation>未移除：{problem}</translation>
    </message>
    <message>
        <source>Tokens: {problem}.</source>
        <translation>令牌：{problem}。</translation>
    </message>
    <message>
        <source>Tokens stored for: {hosts}</source>
        <translation>已保存令牌的主机：{hosts}</translation>
    </message>
    <message>
        <source>No token stored for these hosts.</source>
        <translation>这些主机都没有已保存的令牌。</translation>
    </message>
    <message>
        <source>Mirror rule: {problem}.</source>
        <translation>镜像规则：{problem}。</translation>
    </message>
</context>
<context>
    <name>Store</name>
    <message>
        <source>Cannot read the models folder: {reason}</source>
        <translation>无法读取模型文件夹：{reason}</translation>
    </message>
    <message>
        <source>{title}: try {tries} failed too, at {time}: {error}</source>
        <translation>{title}：第 {tries} 次重试也失败了，时间 {time}：{error}</translation>
    </message>
    <message>
        <source>{titles}: download failed: {reason}</source>
        <translation>{titles}：下载失败：{reason}</translation>
    </message>
    <message>
        <source>{titles}: downloaded to {path}</source>
        <translation>{titles}：已下载到 {path}</translation>
    </message>
</context>
<context>
    <name>UnpackRun</name>
    <message>
        <source>Reading what {name} holds…</source>
        <translation>正在读取 {name} 的内容…</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>确定</translation>
    </message>
    <message>
        <source>{name} is not unpacked: {why}</source>
        <translation>{name} 未解压：{why}</translation>
    </message>
    <message>
        <source>Not unpacked</source>
        <translation>未解压</translation>
    </message>
    <message>
        <source>{name} is unpacked already in {folder}</source>
        <translation>{name} 已解压到 {folder}</translation>
    </message>
    <message>
        <source>Unpack</source>
        <translation>解压</translation>
    </message>
    <message>
        <source>Unpack the archive?</source>
        <translation>解压该压缩包？</translation>
    </message>
    <message numerus="yes">
        <source>Unpack %n file(s) from {name} into {folder}?</source>
        <translation>
            <numerusform>将 {name} 中的 %n 个文件解压到 {folder}？</numerusform>
        </translation>
    </message>
    <message>
        <source>{size} in all; {free} free. The archive is checked against its sha256 first.</source>
        <translation>共 {size}；可用 {free}。解压前会先按 sha256 校验压缩包。</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Nothing unpacked</source>
        <translation>未解压任何文件</translation>
    </message>
    <message>
        <source>Unpacking {name}…</source>
        <translation>正在解压 {name}…</translation>
    </message>
    <message numerus="yes">
        <source>Unpacked %n file(s) of {name} ({size}) into {folder}</source>
        <translation>
            <numerusform>已将 {name} 中的 %n 个文件（{size}）解压到 {folder}</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>UsageBar</name>
    <message>
        <source>Disk usage of the models folder&apos;s volume</source>
        <translation>模型文件夹所在卷的磁盘占用</translation>
    </message>
    <message>
        <source>Not measured yet</source>
        <translation>尚未测量</translation>
    </message>
</context>
<context>
    <name>UsageModel</name>
    <message>
        <source>Checkpoint</source>
        <translation>检查点</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Share</source>
        <translation>占比</translation>
    </message>
    <message numerus="yes">
        <source>{name} + %n sharing the file</source>
        <translation>
            <numerusform>{name} + 另外 %n 个共用此文件</numerusform>
        </translation>
    </message>
    <message>
        <source>{name} (partial)</source>
        <translation>{name}（未完成）</translation>
    </message>
</context>
<context>
    <name>VerifyBatch</name>
    <message>
        <source>Verified %n of {total}</source>
        <translation>已校验 {total} 个中的 %n 个</translation>
    </message>
    <message>
        <source>%n differs from its hash</source>
        <translation>%n 个与其哈希不符</translation>
    </message>
    <message>
        <source>%n differ from their hashes</source>
        <translation>%n 个与其哈希不符</translation>
    </message>
    <message>
        <source>%n is not ours</source>
        <translation>%n 个不是本程序的文件</translation>
    </message>
    <message>
        <source>%n are not ours</source>
        <translation>%n 个不是本程序的文件</translation>
    </message>
    <message>
        <source>%n could not be read</source>
        <translation>%n 个无法读取</translation>
    </message>
    <message>
        <source>the rows say which</source>
        <translation>具体是哪些请看各行</translation>
    </message>
</context>
<context>
    <name>WindowLayout</name>
    <message>
        <source>Actions</source>
        <translation>操作</translation>
    </message>
    <message>
        <source>Project</source>
        <translation>项目</translation>
    </message>
    <message>
        <source>Project: check a project folder, link into one, add a catalog, export a lock file</source>
        <translation>项目：检查项目文件夹、链接到项目文件夹、添加清单、导出锁定文件</translation>
    </message>
    <message>
        <source>Failed: 404 Not Found</source>
        <translation>失败：404 未找到</translation>
    </message>
</context>
<context>
    <name>WindowProjects</name>
    <message>
        <source>The catalogs change in the tree the next time ofa-manager opens</source>
        <translation>清单的更改将在下次打开 ofa-manager 时显示在树中</translation>
    </message>
</context>
<context>
    <name>app</name>
    <message>
        <source>Some settings could not be used: %1</source>
        <translation>部分设置无法使用：%1</translation>
    </message>
    <message>
        <source>PySide6 6.12.0 loses references to None on Python before 3.12, which crashes the window after some minutes of use; install another release: {command}</source>
        <translation>PySide6 6.12.0 在 Python 3.12 之前的版本上会丢失对 None 的引用，窗口使用几分钟后就会崩溃；请安装其他版本：{command}</translation>
    </message>
    <message>
        <source>%1: the catalog cannot be used</source>
        <translation>%1：清单无法使用</translation>
    </message>
    <message>
        <source>The catalog cannot be used, so the window cannot open.</source>
        <translation>清单无法使用，因此窗口无法打开。</translation>
    </message>
</context>
<context>
    <name>catalog</name>
    <message>
        <source>π-Tuning checkpoints</source>
        <translation>π-Tuning 检查点</translation>
    </message>
    <message>
        <source>Pretrained backbones</source>
        <translation>预训练骨干网络</translation>
    </message>
    <message>
        <source>PETL on OFA-Large</source>
        <translation>基于 OFA-Large 的 PETL</translation>
    </message>
    <message>
        <source>Adapter checkpoint on RefCOCO</source>
        <translation>RefCOCO 上的 Adapter 检查点</translation>
    </message>
    <message>
        <source>LoRA checkpoint on RefCOCO</source>
        <translation>RefCOCO 上的 LoRA 检查点</translation>
    </message>
    <message>
        <source>Prompt checkpoint on RefCOCO</source>
        <translation>RefCOCO 上的 Prompt 检查点</translation>
    </message>
    <message>
        <source>π-Adapter checkpoint on RefCOCO</source>
        <translation>RefCOCO 上的 π-Adapter 检查点</translation>
    </message>
    <message>
        <source>Adapter checkpoint on RefCOCO+</source>
        <translation>RefCOCO+ 上的 Adapter 检查点</translation>
    </message>
    <message>
        <source>π-Adapter checkpoint on RefCOCO+</source>
        <translation>RefCOCO+ 上的 π-Adapter 检查点</translation>
    </message>
    <message>
        <source>Adapter checkpoint on RefCOCOg</source>
        <translation>RefCOCOg 上的 Adapter 检查点</translation>
    </message>
    <message>
        <source>π-Adapter checkpoint on RefCOCOg</source>
        <translation>RefCOCOg 上的 π-Adapter 检查点</translation>
    </message>
</context>
<context>
    <name>claims</name>
    <message>
        <source>no readable checkpoint</source>
        <translation>无法读取的检查点</translation>
    </message>
    <message>
        <source>{arch} ({model} by its shapes)</source>
        <translation>{arch}（按张量形状为 {model}）</translation>
    </message>
    <message>
        <source>an {model} model (by its shapes)</source>
        <translation>{model} 模型（按张量形状判断）</translation>
    </message>
    <message>
        <source>a model of unknown architecture</source>
        <translation>架构未知的模型</translation>
    </message>
    <message>
        <source>{model} fine-tuned for {task}</source>
        <translation>在 {task} 上微调的 {model}</translation>
    </message>
    <message>
        <source>{model} with {families} keys</source>
        <translation>{model}，含 {families} 参数键</translation>
    </message>
    <message>
        <source>{model} ({params} parameters)</source>
        <translation>{model}（{params} 参数）</translation>
    </message>
    <message>
        <source>an Adapter</source>
        <translation>Adapter</translation>
    </message>
    <message>
        <source>a LoRA</source>
        <translation>LoRA</translation>
    </message>
    <message>
        <source>a Prompt</source>
        <translation>Prompt</translation>
    </message>
    <message>
        <source>a π-Adapter</source>
        <translation>π-Adapter</translation>
    </message>
    <message>
        <source>{family} for {task} on {arch}</source>
        <translation>{arch} 上用于 {task} 的 {family}</translation>
    </message>
    <message>
        <source>{family} for {task}</source>
        <translation>用于 {task} 的 {family}</translation>
    </message>
    <message>
        <source>{family} on {arch}</source>
        <translation>{arch} 上的 {family}</translation>
    </message>
    <message>
        <source>{family}</source>
        <translation>{family}</translation>
    </message>
    <message>
        <source>a checkpoint</source>
        <translation>一个检查点</translation>
    </message>
    <message>
        <source>{claim} (~{params} parameters)</source>
        <translation>{claim}（约 {params} 参数）</translation>
    </message>
    <message>
        <source>holds no readable checkpoint, not {claim}</source>
        <translation>不是可读取的检查点，而清单所述为{claim}</translation>
    </message>
    <message>
        <source>holds {contents}, not {claim}</source>
        <translation>包含的是{contents}，而不是{claim}</translation>
    </message>
    <message>
        <source>not readable as a checkpoint</source>
        <translation>无法作为检查点读取</translation>
    </message>
    <message>
        <source>tensors and plain data only</source>
        <translation>只有张量和普通数据</translation>
    </message>
    <message>
        <source>dangerous: {names}</source>
        <translation>危险：{names}</translation>
    </message>
    <message>
        <source>unknown: {names}</source>
        <translation>未知：{names}</translation>
    </message>
    <message>
        <source>loading it with weights_only=False would import or call {globals}</source>
        <translation>用 weights_only=False 加载时会导入或调用 {globals}</translation>
    </message>
</context>
<context>
    <name>status</name>
    <message>
        <source>unknown error</source>
        <translation>未知错误</translation>
    </message>
    <message>
        <source>sha256 mismatch</source>
        <translation>sha256 不匹配</translation>
    </message>
    <message>
        <source>size mismatch</source>
        <translation>大小不匹配</translation>
    </message>
    <message>
        <source>not enough disk space</source>
        <translation>磁盘空间不足</translation>
    </message>
    <message>
        <source>error</source>
        <translation>错误</translation>
    </message>
    <message>
        <source>the models folder cannot be written</source>
        <translation>无法写入模型文件夹</translation>
    </message>
    <message>
        <source>the file was removed during the download</source>
        <translation>下载期间文件被移除</translation>
    </message>
    <message>
        <source>a file ofa-manager did not put there is in the way</source>
        <translation>目标位置有一个不是 ofa-manager 放置的文件</translation>
    </message>
    <message>
        <source>the server could not be reached</source>
        <translation>无法连接服务器</translation>
    </message>
    <message>
        <source>the server answered with an error</source>
        <translation>服务器返回错误</translation>
    </message>
    <message>
        <source>the data does not match the expected file</source>
        <translation>数据与预期的文件不符</translation>
    </message>
    <message>
        <source>Bad Request</source>
        <translation>请求无效</translation>
    </message>
    <message>
        <source>Unauthorized</source>
        <translation>未授权</translation>
    </message>
    <message>
        <source>Forbidden</source>
        <translation>禁止访问</translation>
    </message>
    <message>
        <source>Not Found</source>
        <translation>未找到</translation>
    </message>
    <message>
        <source>Gone</source>
        <translation>已不存在</translation>
    </message>
    <message>
        <source>Range Not Satisfiable</source>
        <translation>请求范围无效</translation>
    </message>
    <message>
        <source>Too Many Requests</source>
        <translation>请求过多</translation>
    </message>
    <message>
        <source>Internal Server Error</source>
        <translation>服务器内部错误</translation>
    </message>
    <message>
        <source>Bad Gateway</source>
        <translation>网关错误</translation>
    </message>
    <message>
        <source>Service Unavailable</source>
        <translation>服务不可用</translation>
    </message>
    <message>
        <source>Gateway Timeout</source>
        <translation>网关超时</translation>
    </message>
    <message>
        <source>{time} left</source>
        <translation>剩余 {time}</translation>
    </message>
    <message>
        <source>Not downloaded</source>
        <translation>未下载</translation>
    </message>
    <message>
        <source>Partial</source>
        <translation>部分下载</translation>
    </message>
    <message>
        <source>Downloaded</source>
        <translation>已下载</translation>
    </message>
    <message>
        <source>Verified</source>
        <translation>已校验</translation>
    </message>
    <message>
        <source>Corrupt</source>
        <translation>已损坏</translation>
    </message>
    <message>
        <source>Not ours</source>
        <translation>非本程序文件</translation>
    </message>
    <message>
        <source>In the shared store</source>
        <translation>在共享存储中</translation>
    </message>
    <message>
        <source>Kept anyway: differs from the catalog</source>
        <translation>仍然保留：与清单不符</translation>
    </message>
    <message>
        <source>Failed: {reason}</source>
        <translation>失败：{reason}</translation>
    </message>
    <message>
        <source>Queued</source>
        <translation>排队中</translation>
    </message>
    <message>
        <source>Waiting for another program using the file</source>
        <translation>等待另一个正在使用该文件的程序</translation>
    </message>
    <message>
        <source>Connecting</source>
        <translation>正在连接</translation>
    </message>
    <message>
        <source>Downloading</source>
        <translation>正在下载</translation>
    </message>
    <message>
        <source>Stalled, reconnecting</source>
        <translation>停滞，正在重新连接</translation>
    </message>
    <message>
        <source>Verifying</source>
        <translation>正在校验</translation>
    </message>
    <message>
        <source>Paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>Verifying {percent}</source>
        <translation>正在校验 {percent}</translation>
    </message>
    <message>
        <source>Checking…</source>
        <translation>正在检查…</translation>
    </message>
    <message>
        <source>Partial ({size})</source>
        <translation>部分下载（{size}）</translation>
    </message>
    <message>
        <source>Not ours: {reason}</source>
        <translation>非本程序文件：{reason}</translation>
    </message>
    <message>
        <source>Verified against the server&apos;s CRC-64</source>
        <translation>已按服务器的 CRC-64 校验</translation>
    </message>
    <message>
        <source>Verified against the server&apos;s MD5</source>
        <translation>已按服务器的 MD5 校验</translation>
    </message>
    <message>
        <source>Not downloaded — link failed: {reason}</source>
        <translation>未下载 — 链接失败：{reason}</translation>
    </message>
    <message>
        <source>check</source>
        <translation>校验</translation>
    </message>
    <message>
        <source>Rejected: {check} mismatch (kept as {name})</source>
        <translation>未通过校验：{check} 不匹配（已保留为 {name}）</translation>
    </message>
    <message>
        <source>Reason: {reason}</source>
        <translation>原因：{reason}</translation>
    </message>
    <message>
        <source>Retry from the context menu, the toolbar or the downloads list.</source>
        <translation>可在右键菜单、工具栏或下载队列中重试。</translation>
    </message>
    <message>
        <source>Kept although it failed its check ({reason}); never shown as verified.</source>
        <translation>虽未通过校验（{reason}）但仍保留；永远不会显示为已校验。</translation>
    </message>
    <message>
        <source>The sha256 matches the catalog.</source>
        <translation>sha256 与清单一致。</translation>
    </message>
    <message>
        <source>The sha256 is unchanged since the download (checked {when}).</source>
        <translation>sha256 自下载以来未变（校验于 {when}）。</translation>
    </message>
    <message>
        <source>The catalog has no sha256; the bytes matched the server&apos;s own fingerprint.</source>
        <translation>清单中没有 sha256；文件内容与服务器自己的指纹一致。</translation>
    </message>
    <message>
        <source>Not verified yet: Verify re-hashes the file.</source>
        <translation>尚未校验：“校验”会重新计算文件的哈希值。</translation>
    </message>
    <message>
        <source>ofa-manager did not put this there: it never overwrites, adopts or deletes it. Verify takes it as the checkpoint only if it matches a size and sha256 known beforehand.</source>
        <translation>此文件不是 ofa-manager 放在这里的：它从不覆盖、接管或删除该文件。只有当文件与事先已知的大小和 sha256 一致时，“校验”才会将其视为该检查点。</translation>
    </message>
    <message>
        <source>Used from {path}. The shared store is read-only: ofa-manager never writes or deletes there.</source>
        <translation>从 {path} 使用。共享存储是只读的：ofa-manager 从不在那里写入或删除。</translation>
    </message>
    <message>
        <source>Its sha256 matched the catalog.</source>
        <translation>其 sha256 与清单一致。</translation>
    </message>
    <message>
        <source>{reason}; the next download starts over.</source>
        <translation>{reason}；下次下载将从头开始。</translation>
    </message>
    <message>
        <source>The file does not match its hash or size; delete it and download it again.</source>
        <translation>文件与其哈希值或大小不符；请删除后重新下载。</translation>
    </message>
    <message>
        <source>sha256 found {sha}</source>
        <translation>实际 sha256 为 {sha}</translation>
    </message>
    <message>
        <source>The last download failed its check and was kept, not thrown away: {reason}. Keep Anyway uses it without downloading again; Delete Rejected Copy frees its space.</source>
        <translation>上次下载未通过校验，已保留而未丢弃：{reason}。“仍然保留”会直接使用它而不重新下载；“删除未通过校验的副本”会释放其空间。</translation>
    </message>
    <message>
        <source>Link check: {reason}</source>
        <translation>链接检查：{reason}</translation>
    </message>
    <message>
        <source>exited</source>
        <comment>the download process</comment>
        <translation>已退出</translation>
    </message>
    <message>
        <source>not responding</source>
        <comment>the download process</comment>
        <translation>无响应</translation>
    </message>
    <message>
        <source>incompatible</source>
        <comment>the download process</comment>
        <translation>版本不兼容</translation>
    </message>
    <message>
        <source>pipe closed</source>
        <comment>the download process</comment>
        <translation>管道已关闭</translation>
    </message>
    <message>
        <source>reader failed</source>
        <comment>the download process</comment>
        <translation>读取事件失败</translation>
    </message>
</context>
<context>
    <name>units</name>
    <message>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <source>1 Byte</source>
        <translation>1 字节</translation>
    </message>
    <message>
        <source>{count} Bytes</source>
        <translation>{count} 字节</translation>
    </message>
    <message>
        <source>{size}/s</source>
        <translation>{size}/s</translation>
    </message>
    <message>
        <source>{s} s</source>
        <translation>{s} 秒</translation>
    </message>
    <message>
        <source>{m} min</source>
        <translation>{m} 分钟</translation>
    </message>
    <message>
        <source>{m} min {s} s</source>
        <translation>{m} 分 {s} 秒</translation>
    </message>
    <message>
        <source>{h} h {m} min</source>
        <translation>{h} 小时 {m} 分</translation>
    </message>
    <message>
        <source>{percent} %</source>
        <translation>{percent}%</translation>
    </message>
</context>
</TS>
